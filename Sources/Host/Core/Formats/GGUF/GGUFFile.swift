/// A GGUF model file, mapped read-only: its version, metadata and tensor infos, parsed and checked on open.
///
/// Opening reads only the header region: metadata arrays (a vocabulary of 262,144 strings) are indexed, not
/// copied, and tensor data is not touched. Any truncated, malformed or hostile file is a `GGUFError` naming what
/// is wrong and where; the reader never reads outside the file.
public final class GGUFFile: Sendable {
    /// The path the file was opened from ("<memory>" for bytes).
    public let path: String
    /// The GGUF version (2 or 3; both share one layout).
    public let version: UInt32
    /// The metadata pairs in file order.
    public let metadata: GGUFMetadata
    /// The tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, default 32).
    public let alignment: UInt64
    /// Where the data section starts in the file; tensor offsets are relative to it.
    public let dataOffset: UInt64
    /// The size of the file in bytes.
    public let fileSize: UInt64

    private let mapping: FileMapping

    /// Opens and parses the GGUF file at `path`.
    public convenience init(path: String) throws(GGUFError) {
        let mapping: FileMapping
        do {
            mapping = try FileMapping(path: path)
        } catch {
            throw GGUFError(path: path, message: error.message)
        }
        try self.init(mapping: mapping, path: path)
    }

    /// Parses a GGUF file held in memory (tests, and files received whole).
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        try self.init(mapping: FileMapping(bytes: bytes), path: "<memory>")
    }

    private init(mapping: FileMapping, path: String) throws(GGUFError) {
        let contents = try mapping.withBytes { (bytes) throws(GGUFError) -> GGUFParser.Contents in
            var parser = GGUFParser(bytes: bytes, mapping: mapping, path: path)
            return try parser.parse()
        }
        self.path = path
        self.mapping = mapping
        self.version = contents.version
        self.metadata = contents.metadata
        self.tensors = contents.tensors
        self.alignment = contents.alignment
        self.dataOffset = contents.dataOffset
        self.fileSize = UInt64(mapping.count)
    }

    /// The tensor named `name`, if any.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensors.first { $0.name == name }
    }

    /// The architecture named by `general.architecture`, e.g. "llama" or "gemma3".
    public var architecture: String? { metadata["general.architecture"]?.string }
}
