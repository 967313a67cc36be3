extension Vocabulary {
    /// The bytes `token` stands for (llama_token_to_piece with no stripping). Control and unknown tokens give []
    /// unless `special`; a piece may be part of a UTF-8 sequence. An id outside the vocabulary gives [].
    public func piece(_ token: Int32, special: Bool) -> [UInt8] {
        guard contains(token) else { return [] }
        let attributes = attributes[Int(token)]
        if !special && !attributes.isDisjoint(with: [.unknown, .control]) { return [] }
        let text = tokens.bytes(Int(token))
        if !attributes.isDisjoint(with: TokenAttributes.special) { return Array(text) }
        if attributes.contains(.normal) {
            return model == .sentencePiece ? Self.unescapeWhitespace(text) : Self.decodeByteLevel(text)
        }
        if attributes.contains(.byte) { return [Self.byteValue(text)] }
        return []
    }

    /// The text of `tokens` (llama_detokenize): the pieces joined, one leading space dropped when the vocabulary
    /// adds a space prefix, and spaces tidied when the pre-tokenizer asks for it. `removeSpecial` drops a leading
    /// BOS and trailing EOS that the vocabulary adds; `special` renders control tokens.
    public func decode(_ tokens: [Int32], special: Bool, removeSpecial: Bool = false) -> [UInt8] {
        var tokens = tokens[...]
        var removeSpace = addsSpacePrefix
        if removeSpecial && addsBOS, let first = tokens.first, first == bos {
            removeSpace = false
            tokens = tokens.dropFirst()
        }
        if removeSpecial && addsEOS, let last = tokens.last, last == eos {
            tokens = tokens.dropLast()
        }
        var text: [UInt8] = []
        for token in tokens {
            let piece = piece(token, special: special)
            text.append(contentsOf: removeSpace && piece.first == UInt8(ascii: " ") ? piece.dropFirst() : piece[...])
            removeSpace = false
        }
        return cleanSpaces ? Self.cleanedSpaces(text) : text
    }

    /// SentencePiece's ▁ (U+2581) back to spaces.
    private static func unescapeWhitespace(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == 0xE2, index + 2 < text.endIndex, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                result.append(UInt8(ascii: " "))
                index += 3
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// Byte-level BPE text back to bytes; a code point outside the alphabet becomes llama.cpp's
    /// "[UNK_BYTE_0x<utf8 hex><token text>]".
    private static func decodeByteLevel(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        for codePoint in LlamaUTF8.codePoints(text) {
            if let byte = ByteLevelAlphabet.byte(for: codePoint) {
                result.append(byte)
            } else {
                let hex = LlamaUTF8.encode(codePoint).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
                result += Array("[UNK_BYTE_0x\(hex)".utf8) + Array(text) + [UInt8(ascii: "]")]
            }
        }
        return result
    }

    /// The byte of a `<0xXX>` token: the hex digits at offset 3 (strtol of two characters; 0 if none parse).
    private static func byteValue(_ text: ArraySlice<UInt8>) -> UInt8 {
        var value: UInt8 = 0
        for byte in text.dropFirst(3).prefix(2) {
            guard let digit = Int(String(UnicodeScalar(byte)), radix: 16) else { break }
            value = value &* 16 &+ UInt8(digit)
        }
        return value
    }

    /// llama.cpp's clean_up_tokenization_spaces, three in-place passes ported as they are: " ?" " !" " ." " ,"
    /// lose the space; a lone apostrophe between spaces loses both; " 's" " 'm" " 're" " 've" lose the space.
    static func cleanedSpaces(_ input: [UInt8]) -> [UInt8] {
        var text = input
        let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
        var total = text.count
        // first pass: characters ?!.,
        var count = total
        total = count > 0 ? 1 : 0
        for index in stride(from: 1, to: count, by: 1) {
            let character = text[index]
            if text[index - 1] == space, Array("?!.,".utf8).contains(character) { total -= 1 }
            text[total] = character
            total += 1
        }
        // second pass: strip single apostrophe between spaces
        count = total
        total = count > 0 ? 1 : 0
        var index = 1
        while index < count {
            let character = text[index]
            if character == quote, index + 1 < count, text[index - 1] == space, text[index + 1] == space {
                total -= 1
                index += 1
                text[index] = 0
            }
            text[total] = character
            total += 1
            index += 1
        }
        // third pass: apostrophe contractions
        count = total
        total = count > 0 ? 1 : 0
        for index in stride(from: 1, to: count, by: 1) {
            let character = text[index]
            if text[index - 1] == space, character == quote, index + 1 < count {
                let next = text[index + 1]
                if next == UInt8(ascii: "s") || next == UInt8(ascii: "m") {
                    total -= 1
                } else if index + 2 < count {
                    let pair = (next, text[index + 2])
                    if pair == (UInt8(ascii: "r"), UInt8(ascii: "e")) || pair == (UInt8(ascii: "v"), UInt8(ascii: "e")) {
                        total -= 1
                    }
                }
            }
            text[total] = character
            total += 1
        }
        return Array(text[..<total])
    }
}
