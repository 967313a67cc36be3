/// What `plexus inspect` prints about a weight file: format, architecture, tensor types, parameters and size.
public struct ModelFileSummary: Sendable {
    /// Tensors of one element type.
    public struct TypeCount: Sendable, Equatable {
        public var type: String
        public var tensors: Int
        public var parameters: UInt64
        public var bytes: UInt64
    }

    public var format: String
    public var architecture: String?
    public var name: String?
    /// Selected metadata, in file order (context length, vocabulary, chat template present, ...).
    public var details: [(String, String)] = []
    public var types: [TypeCount] = []
    public var parameters: UInt64 = 0
    public var fileSize: UInt64 = 0

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the header of a GGUF or safetensors file (by its first bytes, not its name).
    public static func inspect(path: String) throws(Failure) -> ModelFileSummary {
        if path.hasSuffix(".safetensors") {
            do { return summary(try SafetensorsHeader.read(path: path)) } catch { throw Failure(description: error.description) }
        }
        do { return summary(try GGUFFile(path: path)) } catch {
            throw Failure(description: "\(path): not a readable GGUF file (\(error)); safetensors files must end in .safetensors")
        }
    }

    static func summary(_ file: GGUFFile) -> ModelFileSummary {
        var result = ModelFileSummary(format: "GGUF v\(file.version)", architecture: file.architecture,
                                      name: file.metadata["general.name"]?.string, fileSize: file.fileSize)
        let arch = file.architecture ?? ""
        for (key, label) in [("\(arch).context_length", "context length"), ("\(arch).block_count", "layers"),
                             ("\(arch).embedding_length", "embedding"), ("\(arch).attention.head_count", "heads"),
                             ("\(arch).attention.head_count_kv", "kv heads"), ("tokenizer.ggml.model", "tokenizer")] {
            if let value = file.metadata[key] { result.details.append((label, value.string ?? value.integer.map(String.init) ?? "?")) }
        }
        if case .array(let tokens)? = file.metadata["tokenizer.ggml.tokens"] { result.details.append(("vocabulary", String(tokens.count))) }
        result.details.append(("chat template", file.metadata.contains("tokenizer.chat_template") ? "yes" : "no"))
        var byType: [String: TypeCount] = [:]
        for tensor in file.tensors {
            let type = tensor.type?.name ?? "type \(tensor.typeID)"
            byType[type, default: TypeCount(type: type, tensors: 0, parameters: 0, bytes: 0)].tensors += 1
            byType[type]!.parameters += tensor.elementCount
            byType[type]!.bytes += tensor.byteCount ?? 0
            result.parameters += tensor.elementCount
        }
        result.types = byType.values.sorted { $0.bytes > $1.bytes }
        return result
    }

    static func summary(_ header: SafetensorsHeader) -> ModelFileSummary {
        var result = ModelFileSummary(format: "safetensors", architecture: header.metadata["architecture"],
                                      name: header.metadata["name"], fileSize: header.fileSize)
        result.details = header.metadata.keys.sorted().filter { $0 != "architecture" && $0 != "name" }.map { ($0, header.metadata[$0]!) }
        var byType: [String: TypeCount] = [:]
        for tensor in header.tensors {
            byType[tensor.dtype, default: TypeCount(type: tensor.dtype, tensors: 0, parameters: 0, bytes: 0)].tensors += 1
            byType[tensor.dtype]!.parameters += tensor.elementCount
            byType[tensor.dtype]!.bytes += UInt64(tensor.byteRange.count)
            result.parameters += tensor.elementCount
        }
        result.types = byType.values.sorted { $0.bytes > $1.bytes }
        return result
    }
}
