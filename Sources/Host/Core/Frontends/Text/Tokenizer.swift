/// Turns text into token ids and ids back into bytes, exactly as llama.cpp does for the same GGUF file.
///
/// Build one with `TokenizerLoader.load(from:)`. Tokenizers are immutable values, safe to share across tasks.
public protocol Tokenizer: Sendable {
    /// The vocabulary the tokenizer was built from: special ids, flags, per-token data.
    var vocabulary: Vocabulary { get }

    /// The token ids of `text` (llama_tokenize). `addSpecial` adds BOS/EOS as the vocabulary asks
    /// (`tokenizer.ggml.add_bos_token` / `add_eos_token`); `parseSpecial` lets control tokens written in the text
    /// (`<|im_start|>`, `<start_of_turn>`) become their ids instead of being spelled out. User-defined tokens are
    /// always matched.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
}

extension Tokenizer {
    /// The bytes of one token (see `Vocabulary.piece`); may be part of a UTF-8 sequence.
    public func piece(_ token: Int32, special: Bool) -> [UInt8] { vocabulary.piece(token, special: special) }

    /// The bytes of `tokens` (see `Vocabulary.decode`).
    public func decode(_ tokens: [Int32], special: Bool, removeSpecial: Bool = false) -> [UInt8] {
        vocabulary.decode(tokens, special: special, removeSpecial: removeSpecial)
    }

    /// Beginning of sequence.
    public var bos: Int32? { vocabulary.bos }
    /// End of sequence.
    public var eos: Int32? { vocabulary.eos }
    /// End of turn.
    public var eot: Int32? { vocabulary.eot }
    /// Whether `token` ends generation.
    public func isEndOfGeneration(_ token: Int32) -> Bool { vocabulary.isEndOfGeneration(token) }
}
