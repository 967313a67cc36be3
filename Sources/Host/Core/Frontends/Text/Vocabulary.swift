/// A model's vocabulary as llama.cpp reads it from GGUF metadata (llama_vocab::impl::load): token texts, scores
/// and attributes, the special token ids, and the flags that steer encoding and decoding.
public struct Vocabulary: Sendable {
    /// The tokenizer family (`tokenizer.ggml.model`).
    public enum Model: String, Sendable {
        /// SentencePiece BPE with byte fallback ("llama"): Llama 2, Gemma.
        case sentencePiece = "llama"
        /// Byte-level BPE ("gpt2"): GPT-2, SmolLM, Llama 3, Qwen.
        case bytePair = "gpt2"
    }

    /// The tokenizer family.
    public let model: Model
    /// The pre-tokenizer (byte-level BPE only).
    public let preTokenizer: PreTokenizer?
    /// Beginning of sequence.
    public let bos: Int32?
    /// End of sequence.
    public let eos: Int32?
    /// End of turn (`<|im_end|>`-like); when several tokens qualify by text, the lowest id.
    public let eot: Int32?
    /// End of message (`<|eom_id|>`).
    public let eom: Int32?
    /// The unknown token.
    public let unknown: Int32?
    /// Padding.
    public let padding: Int32?
    /// Every token that ends generation (eos, eot, eom and the ones llama.cpp recognizes by text).
    public let endOfGeneration: Set<Int32>
    /// Whether encoding with `addSpecial` starts with BOS (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    /// Whether encoding with `addSpecial` ends with EOS (`tokenizer.ggml.add_eos_token`).
    public let addsEOS: Bool
    /// Whether SentencePiece text gets a leading space (`tokenizer.ggml.add_space_prefix`).
    public let addsSpacePrefix: Bool

    let tokens: TokenTable
    let scores: [Float]
    let attributes: [TokenAttributes]
    /// Control, user-defined and unknown tokens, longest text first (ties by id): the order llama.cpp cuts them
    /// out of the text.
    let specialTokens: [Int32]
    let cleanSpaces: Bool

    /// The number of tokens.
    public var count: Int { attributes.count }

    /// The attributes of `token`, or none for an id outside the vocabulary.
    public func attributes(of token: Int32) -> TokenAttributes {
        contains(token) ? attributes[Int(token)] : []
    }

    /// The score of `token` (SentencePiece merge priority), or 0.
    public func score(of token: Int32) -> Float { contains(token) ? scores[Int(token)] : 0 }

    /// The stored text of `token` (with SentencePiece's ▁ and byte-level BPE's alphabet), or [] outside the vocabulary.
    public func text(of token: Int32) -> [UInt8] { contains(token) ? Array(tokens.bytes(Int(token))) : [] }

    /// The id whose stored text is `text`, if any.
    public func token(forText text: [UInt8]) -> Int32? {
        guard let id = tokens.id(of: text), Int(id) < count else { return nil }
        return id
    }

    /// Whether `token` ends generation.
    public func isEndOfGeneration(_ token: Int32) -> Bool { endOfGeneration.contains(token) }

    /// Whether `token` is an id of this vocabulary.
    public func contains(_ token: Int32) -> Bool { token >= 0 && Int(token) < count }

    init(model: Model, preTokenizer: PreTokenizer?, tokens: TokenTable, scores: [Float], attributes: [TokenAttributes],
         specials: SpecialTokenIDs, flags: Flags) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.attributes = attributes
        bos = specials.bos
        eos = specials.eos
        eot = specials.eot
        eom = specials.eom
        unknown = specials.unknown
        padding = specials.padding
        endOfGeneration = specials.endOfGeneration
        addsBOS = flags.addBOS
        addsEOS = flags.addEOS
        addsSpacePrefix = flags.addSpacePrefix
        cleanSpaces = flags.cleanSpaces
        specialTokens = attributes.indices.filter { !attributes[$0].isDisjoint(with: TokenAttributes.special) }
            .map { Int32($0) }
            .sorted { a, b in
                let (left, right) = (tokens.bytes(Int(a)).count, tokens.bytes(Int(b)).count)
                return left != right ? left > right : a < b
            }
    }

    /// Encoding and decoding switches.
    struct Flags {
        var addBOS = false
        var addEOS = false
        var addSpacePrefix = false
        var cleanSpaces = false
    }
}
