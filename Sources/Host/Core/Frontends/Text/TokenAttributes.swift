/// What kind of token an id is, as llama.cpp's `llama_token_attr` bits (the values match llama.h).
public struct TokenAttributes: OptionSet, Sendable, Hashable {
    /// The llama_token_attr bits.
    public let rawValue: UInt32
    /// Attributes from llama_token_attr bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The unknown token (`<unk>`): matched in text only when special tokens are parsed; decodes to nothing.
    public static let unknown = TokenAttributes(rawValue: 1 << 0)
    /// A reserved token (e.g. Gemma's `<unused12>`).
    public static let unused = TokenAttributes(rawValue: 1 << 1)
    /// An ordinary piece of text.
    public static let normal = TokenAttributes(rawValue: 1 << 2)
    /// A control token (`<|im_end|>`, `<bos>`): matched in text only when special tokens are parsed, decoded only
    /// when special tokens are rendered.
    public static let control = TokenAttributes(rawValue: 1 << 3)
    /// A user-defined token (Gemma's `\n`, runs of spaces, HTML tags): always matched verbatim in text.
    public static let userDefined = TokenAttributes(rawValue: 1 << 4)
    /// A byte fallback token `<0xXX>`.
    public static let byte = TokenAttributes(rawValue: 1 << 5)

    /// The attributes of a GGUF `tokenizer.ggml.token_type` value (llama.cpp's LLAMA_TOKEN_TYPE_*).
    init(tokenType: Int32) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }

    /// Tokens that are cut out of the text before the model's tokenizer runs: control, user-defined, unknown.
    static let special: TokenAttributes = [.control, .userDefined, .unknown]
}
