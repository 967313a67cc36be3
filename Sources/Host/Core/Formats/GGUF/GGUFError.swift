/// Why a GGUF file could not be read: a truncated, malformed or hostile file, or an I/O failure.
///
/// The message names what was being read ("string length of key 'tokenizer.ggml.tokens' element 7"), and `offset`
/// is the byte where the problem was found, when there is one.
public struct GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file, or "<memory>" for an in-memory buffer.
    public let path: String
    /// What is wrong, e.g. "string length 4294967296 exceeds the 12 bytes left in the file".
    public let message: String
    /// The byte offset in the file where the problem was found.
    public let offset: UInt64?

    /// An error about `path` found at byte `offset`.
    public init(path: String, message: String, offset: UInt64? = nil) {
        self.path = path
        self.message = message
        self.offset = offset
    }

    public var description: String {
        guard let offset else { return "\(path): \(message)" }
        return "\(path): \(message) (at byte \(offset))"
    }
}
