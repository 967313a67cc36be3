/// Why a tokenizer could not be built from a model's metadata.
public struct TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is missing, malformed or unsupported, e.g. "tokenizer.ggml.model 'bert' is not supported".
    public let message: String

    /// An error saying `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
