/// The special token ids of a vocabulary and llama.cpp's rules for finding the ones a file does not name: by
/// their text (`<|im_end|>`, `<end_of_turn>`, ...), marking what it finds as control tokens and collecting the
/// end-of-generation set (llama_vocab::impl::load, "auto-detect special tokens by text").
struct SpecialTokenIDs {
    var bos: Int32?
    var eos: Int32?
    var eot: Int32?
    var eom: Int32?
    var unknown: Int32?
    var separator: Int32?
    var padding: Int32?
    var mask: Int32?
    var fimPrefix: Int32?
    var fimSuffix: Int32?
    var fimMiddle: Int32?
    var fimPad: Int32?
    var fimRepository: Int32?
    var fimSeparator: Int32?
    var endOfGeneration: Set<Int32> = []

    /// Defaults of the family, overridden by `tokenizer.ggml.*_token_id` keys that name an id in range.
    init(model: Vocabulary.Model, metadata: GGUFMetadata, count: Int) {
        func inRange(_ id: Int32?) -> Int32? { id.flatMap { $0 >= 0 && Int($0) < count ? $0 : nil } }
        bos = inRange(model == .sentencePiece ? 1 : 11)
        eos = inRange(model == .sentencePiece ? 2 : 11)
        unknown = inRange(model == .sentencePiece ? 0 : nil)
        func override(_ id: inout Int32?, _ key: String) {
            guard let value = metadata["tokenizer.ggml.\(key)_token_id"]?.integer, value >= 0, value < Int64(count)
            else { return }
            id = Int32(value)
        }
        override(&bos, "bos")
        override(&eos, "eos")
        override(&eot, "eot")
        override(&eom, "eom")
        override(&unknown, "unknown")
        override(&separator, "seperator")  // sic: the key's spelling in the format
        override(&padding, "padding")
        override(&mask, "mask")
        override(&fimPrefix, "fim_pre")
        override(&fimSuffix, "fim_suf")
        override(&fimMiddle, "fim_mid")
        override(&fimPad, "fim_pad")
        override(&fimRepository, "fim_rep")
        override(&fimSeparator, "fim_sep")
        override(&fimPrefix, "prefix")
        override(&fimSuffix, "suffix")
        override(&fimMiddle, "middle")
    }

    /// Finds unnamed special tokens by text, adjusts their attributes and builds the end-of-generation set.
    mutating func detect(tokens: TokenTable, attributes: inout [TokenAttributes]) {
        func find(_ texts: [String]) -> Int32? {
            texts.compactMap { tokens.id(of: Array($0.utf8)) }.filter { Int($0) < attributes.count }.min()
        }
        func markControl(_ id: Int32) { attributes[Int(id)].insert(.control) }
        func detect(_ id: inout Int32?, _ texts: [String]) {
            guard id == nil, let found = find(texts) else { return }
            id = found
            markControl(found)
        }
        detect(&eot, Self.endOfTurnTexts)
        detect(&eom, ["<|eom_id|>"])
        detect(&fimPrefix, ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                            "<|code_prefix|>", "<|prefix|>"])
        detect(&fimSuffix, ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                            "<|code_suffix|>", "<|suffix|>"])
        detect(&fimMiddle, ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                            "<|code_middle|>", "<|middle|>"])
        detect(&fimPad, ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"])
        detect(&fimRepository, ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"])
        detect(&fimSeparator, ["<|file_sep|>"])
        markUnused(tokens: tokens, attributes: &attributes)
        collectEndOfGeneration(tokens: tokens, attributes: &attributes)
    }

    /// Control tokens whose text contains "unused" are reserved.
    private func markUnused(tokens: TokenTable, attributes: inout [TokenAttributes]) {
        let needle = Array("unused".utf8)
        for id in attributes.indices where attributes[id].contains(.control) && !attributes[id].contains(.unused) {
            let text = tokens.bytes(id)
            guard text.count >= needle.count else { continue }
            for start in text.startIndex ... text.endIndex - needle.count
            where text[start ..< start + needle.count].elementsEqual(needle) {
                attributes[id].insert(.unused)
                break
            }
        }
    }

    private mutating func collectEndOfGeneration(tokens: TokenTable, attributes: inout [TokenAttributes]) {
        func id(_ text: String) -> Int32? {
            tokens.id(of: Array(text.utf8)).flatMap { Int($0) < attributes.count ? $0 : nil }
        }
        endOfGeneration = Set([fimPad, fimRepository, fimSeparator].compactMap { $0 })
        for text in Self.endOfGenerationTexts {
            guard let found = id(text) else { continue }
            endOfGeneration.insert(found)
            attributes[Int(found)].insert(.control)
        }
        // gpt-oss: these are always rendered.
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let found = id(text) { attributes[Int(found)] = .userDefined }
        }
        for special in [eos, eot, eom] { if let special { endOfGeneration.insert(special) } }
        let generation = endOfGeneration
        func named(_ text: String) -> Bool { id(text).map { generation.contains($0) } ?? false }
        // o200k_harmony and solar-open: <|end|> is not the end of generation when <|return|>/<|call|> exist.
        if let end = id("<|end|>"), named("<|end|>"),
           (named("<|return|>") && (named("<|call|>") || named("<|calls|>")))
            || ((named("<|call|>") || named("<|calls|>")) && named("<|flush|>")) {
            endOfGeneration.remove(end)
            attributes[Int(end)] = .userDefined
        }
        // Gemma 4 and PLaMo 2 have an ordinary </s>.
        if let closing = id("</s>"), named("</s>"), named("<|tool_response>") || named("<|plamo:eos|>") {
            endOfGeneration.remove(closing)
            attributes[Int(closing)] = .normal
        }
    }

    private static let endOfTurnTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]

    private static let endOfGenerationTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]
}
