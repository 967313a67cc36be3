import HostCore

/// One function the client offers the model (an entry of OpenAI's `tools`), checked for what tool calling needs.
struct ToolDefinition: Sendable, Equatable {
    /// The function name: 1 to 64 letters, digits, `_` or `-`, as OpenAI requires.
    var name: String
    var description: String?
    /// The JSON Schema of the arguments object.
    var parameters: JSONValue

    /// The schema used when a function declares no parameters: an empty arguments object.
    static let noParameters = JSONValue.object([
        "type": .string("object"), "properties": .object([:]), "additionalProperties": .bool(false),
    ])

    /// The tools of a request, or a 400 with param `tools` naming the entry and what is wrong with it.
    static func decode(_ tools: [JSONValue]) throws(APIError) -> [ToolDefinition] {
        var definitions: [ToolDefinition] = []
        for (index, tool) in tools.enumerated() {
            let definition = try decode(tool, at: "tools[\(index)]")
            if definitions.contains(where: { $0.name == definition.name }) {
                throw .invalid("tools[\(index)]: the function name '\(definition.name)' is used twice.", param: "tools")
            }
            definitions.append(definition)
        }
        return definitions
    }

    private static func decode(_ tool: JSONValue, at path: String) throws(APIError) -> ToolDefinition {
        guard case .object(let entry) = tool else { throw invalid(path, "must be an object") }
        switch entry["type"] {
        case .string("function")?, nil: break
        case .string(let other)?:
            throw .unsupported("\(path).type '\(other)' is not supported; only function tools are.", param: "tools")
        default: throw invalid(path + ".type", "must be the string \"function\"")
        }
        guard case .object(let function)? = entry["function"] else { throw invalid(path + ".function", "must be an object") }
        guard case .string(let name)? = function["name"] else {
            throw invalid(path + ".function.name", "is missing (a string is required)")
        }
        guard isValidName(name) else {
            throw invalid(path + ".function.name", "must be 1 to 64 letters, digits, '_' or '-' (got '\(name)')")
        }
        var description: String?
        switch function["description"] {
        case nil, .null?: break
        case .string(let text)?: description = text
        default: throw invalid(path + ".function.description", "must be a string")
        }
        var parameters = noParameters
        switch function["parameters"] {
        case nil, .null?: break
        case .object(let schema)? where schema.isEmpty: break
        case .object?: parameters = function["parameters"]!
        default: throw invalid(path + ".function.parameters", "must be a JSON Schema object")
        }
        return ToolDefinition(name: name, description: description, parameters: parameters)
    }

    private static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
    }

    private static func invalid(_ path: String, _ problem: String) -> APIError {
        .invalid("\(path) \(problem).", param: "tools")
    }
}
