extension Vocabulary {
    /// Reads the vocabulary from `tokenizer.ggml.*` metadata, as llama.cpp does.
    public init(metadata: GGUFMetadata) throws(TokenizerError) {
        let modelName = try Self.string(metadata, "tokenizer.ggml.model")
        guard let modelName, let model = Model(rawValue: modelName) else {
            throw TokenizerError("tokenizer.ggml.model '\(modelName ?? "<missing>")' is not supported "
                                 + "(supported: llama for SentencePiece, gpt2 for byte-level BPE)")
        }
        var preTokenizer: PreTokenizer?
        if model == .bytePair {
            let name = try Self.string(metadata, "tokenizer.ggml.pre")
            guard let pre = PreTokenizer(name: name) else {
                throw TokenizerError("pre-tokenizer '\(name ?? "")' (tokenizer.ggml.pre) is not supported; supported: "
                                     + PreTokenizer.supportedNames.joined(separator: ", "))
            }
            preTokenizer = pre
        }
        let list = try Self.array(metadata, "tokenizer.ggml.tokens", of: [.string], required: true)!
        guard list.count > 0, list.count < Int(Int32.max) else {
            throw TokenizerError("tokenizer.ggml.tokens has \(list.count) tokens")
        }
        let tokens = try Self.tokenTable(list)
        let scores = try Self.array(metadata, "tokenizer.ggml.scores", of: [.float32, .int32], minimumCount: list.count)
            .map { Array($0.floats()!.prefix(list.count)) } ?? [Float](repeating: 0, count: list.count)
        var attributes = try Self.array(metadata, "tokenizer.ggml.token_type", of: [.int32], minimumCount: list.count)
            .map { $0.integers()!.prefix(list.count).map { TokenAttributes(tokenType: Int32(truncatingIfNeeded: $0)) } }
            ?? [TokenAttributes](repeating: .normal, count: list.count)
        var flags = model == .sentencePiece
            ? Flags(addBOS: true, addEOS: false, addSpacePrefix: true, cleanSpaces: false)
            : Flags(addBOS: preTokenizer!.addsBOS, addEOS: false, addSpacePrefix: false,
                    cleanSpaces: preTokenizer!.cleanSpaces)
        try Self.bool(metadata, "tokenizer.ggml.add_space_prefix", into: &flags.addSpacePrefix)
        try Self.bool(metadata, "tokenizer.ggml.add_bos_token", into: &flags.addBOS)
        try Self.bool(metadata, "tokenizer.ggml.add_eos_token", into: &flags.addEOS)
        var specials = SpecialTokenIDs(model: model, metadata: metadata, count: list.count)
        specials.detect(tokens: tokens, attributes: &attributes)
        if flags.addBOS && specials.bos == nil { throw TokenizerError("the vocabulary adds BOS but has no BOS token") }
        if flags.addEOS && specials.eos == nil { throw TokenizerError("the vocabulary adds EOS but has no EOS token") }
        self.init(model: model, preTokenizer: preTokenizer, tokens: tokens, scores: scores, attributes: attributes,
                  specials: specials, flags: flags)
    }

    /// The token texts, indexed; an empty text becomes "[EMPTY_<id>]" as in llama.cpp. Two tokens with one text
    /// would make ids ambiguous (llama.cpp aborts on them): an error.
    private static func tokenTable(_ list: GGUFArray) throws(TokenizerError) -> TokenTable {
        var table = TokenTable(capacity: list.count)
        var duplicate: (first: Int32, second: Int)?
        list.forEachString { index, text in
            guard duplicate == nil else { return }
            let inserted = text.isEmpty
                ? Array("[EMPTY_\(index)]".utf8).withUnsafeBytes { table.insert($0) }
                : table.insert(text)
            if !inserted.inserted { duplicate = (inserted.id, index) }
        }
        if let duplicate {
            throw TokenizerError("tokens \(duplicate.first) and \(duplicate.second) have the same text "
                                 + "'\(list.string(at: duplicate.second))'")
        }
        return table
    }

    static func string(_ metadata: GGUFMetadata, _ key: String) throws(TokenizerError) -> String? {
        guard let value = metadata[key] else { return nil }
        guard let text = value.string else { throw TokenizerError("\(key) must be a string, not a \(value.type)") }
        return text
    }

    private static func bool(_ metadata: GGUFMetadata, _ key: String, into flag: inout Bool) throws(TokenizerError) {
        guard let value = metadata[key] else { return }
        guard let bool = value.bool else { throw TokenizerError("\(key) must be a bool, not a \(value.type)") }
        flag = bool
    }

    /// The array at `key` with elements of one of `types` and at least `minimumCount` of them.
    static func array(_ metadata: GGUFMetadata, _ key: String, of types: [GGUFValueType], minimumCount: Int = 0,
                      required: Bool = false) throws(TokenizerError) -> GGUFArray? {
        guard let value = metadata[key] else {
            if required { throw TokenizerError("\(key) is missing") }
            return nil
        }
        guard let array = value.array, types.contains(array.elementType) else {
            let found = value.array.map { "array of \($0.elementType)" } ?? "\(value.type)"
            let wanted = types.map { "array of \($0)" }.joined(separator: " or ")
            throw TokenizerError("\(key) must be an \(wanted), not a \(found)")
        }
        guard array.count >= minimumCount else {
            throw TokenizerError("\(key) has \(array.count) elements, fewer than the \(minimumCount) tokens")
        }
        return array
    }
}
