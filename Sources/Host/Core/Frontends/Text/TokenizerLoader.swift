/// Builds the tokenizer a GGUF file describes: "llama" vocabularies get a `SentencePieceTokenizer`, "gpt2" ones
/// a `BytePairTokenizer`; anything else is a `TokenizerError` naming what is unsupported.
public enum TokenizerLoader {
    /// The tokenizer of the model file `file`.
    public static func load(from file: GGUFFile) throws(TokenizerError) -> any Tokenizer {
        try load(metadata: file.metadata)
    }

    /// The tokenizer described by `metadata` (a file's, possibly edited).
    public static func load(metadata: GGUFMetadata) throws(TokenizerError) -> any Tokenizer {
        let vocabulary = try Vocabulary(metadata: metadata)
        switch vocabulary.model {
        case .sentencePiece:
            return try SentencePieceTokenizer(vocabulary: vocabulary)
        case .bytePair:
            let merges = try Vocabulary.array(metadata, "tokenizer.ggml.merges", of: [.string], required: true)!
            return try BytePairTokenizer(vocabulary: vocabulary, merges: merges)
        }
    }
}
