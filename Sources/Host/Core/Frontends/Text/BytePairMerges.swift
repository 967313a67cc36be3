/// The merge ranks of a byte-level BPE vocabulary (`tokenizer.ggml.merges`, lines "left right" in priority
/// order), keyed by the ids of both sides. Sides that are not tokens get ids past the vocabulary, so every string
/// llama.cpp could look up by text has an id here.
struct BytePairMerges: Sendable {
    /// The rank of a merge and the id of the string it makes (-1 if that string is neither a token nor a side).
    struct Merge {
        let rank: Int32
        let result: Int32
    }

    /// Token texts plus merge sides that are not tokens.
    let symbols: TokenTable
    private let merges: [UInt64: Merge]

    init(vocabulary: Vocabulary, lines: GGUFArray) {
        var symbols = vocabulary.tokens
        var pairs: [(left: Int32, right: Int32, joined: Range<Int>, line: Int)] = []
        pairs.reserveCapacity(lines.count)
        var joinedTexts: [UInt8] = []
        lines.forEachString { line, text in
            // llama.cpp splits at the first space after the first byte; a line without one is ignored.
            guard text.count > 1, let space = text[1...].firstIndex(of: UInt8(ascii: " ")) else { return }
            let left = symbols.insert(UnsafeRawBufferPointer(rebasing: text[..<space])).id
            let right = symbols.insert(UnsafeRawBufferPointer(rebasing: text[(space + 1)...])).id
            let start = joinedTexts.count
            joinedTexts.append(contentsOf: text[..<space])
            joinedTexts.append(contentsOf: text[(space + 1)...])
            pairs.append((left, right, start ..< joinedTexts.count, line))
        }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(pairs.count)
        joinedTexts.withUnsafeBytes { joined in
            for pair in pairs where merges[Self.key(pair.left, pair.right)] == nil {
                let result = symbols.id(of: UnsafeRawBufferPointer(rebasing: joined[pair.joined])) ?? -1
                merges[Self.key(pair.left, pair.right)] = Merge(rank: Int32(pair.line), result: result)
            }
        }
        self.symbols = symbols
        self.merges = merges
    }

    /// The merge of the symbols with ids `left` and `right`, if there is one.
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        guard left >= 0, right >= 0 else { return nil }
        return merges[Self.key(left, right)]
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}
