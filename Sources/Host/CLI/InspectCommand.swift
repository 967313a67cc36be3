import HostCore

/// `plexus inspect FILE`: what a weight file holds, read from its header only.
enum InspectCommand {
    static let usage = """
        usage: plexus inspect FILE [--json]

          Prints the format, architecture, selected metadata, tensor types (count, parameters, bytes), the total
          parameter count and the file size of a GGUF or safetensors file, reading only its header.
          Exit 0 on success, 1 when the file is not a readable model file, 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let json = arguments.flag("--json")
        let path = try arguments.positional("the model file")
        try arguments.finish()
        let summary: ModelFileSummary
        do { summary = try ModelFileSummary.inspect(path: path) } catch {
            Output.error("plexus: \(error.description)")
            return 1
        }
        if json {
            let types = summary.types.map { "{\"type\": \"\($0.type)\", \"tensors\": \($0.tensors), \"parameters\": \($0.parameters), \"bytes\": \($0.bytes)}" }
            Output.line("{\"format\": \"\(summary.format)\", \"architecture\": \(quoted(summary.architecture)), \"parameters\": \(summary.parameters), \"file_bytes\": \(summary.fileSize), \"types\": [\(types.joined(separator: ", "))]}")
            return 0
        }
        Output.line("file           \(path)")
        Output.line("format         \(summary.format)")
        if let name = summary.name { Output.line("name           \(name)") }
        Output.line("architecture   \(summary.architecture ?? "(not stated)")")
        for (label, value) in summary.details { Output.line(label.padding(15) + value) }
        Output.line("parameters     \(summary.parameters) (\(FixedPoint.format(Double(summary.parameters) / 1e6, 1)) M)")
        Output.line("file size      \(summary.fileSize) bytes (\(FixedPoint.mebibytes(UInt64(summary.fileSize))))")
        Output.line("tensor types   type: tensors, parameters, bytes")
        for type in summary.types {
            Output.line("               \(type.type): \(type.tensors), \(type.parameters), \(type.bytes)")
        }
        return 0
    }

    private static func quoted(_ text: String?) -> String {
        guard let text else { return "null" }
        return "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}

extension String {
    /// The string padded with spaces to at least `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
