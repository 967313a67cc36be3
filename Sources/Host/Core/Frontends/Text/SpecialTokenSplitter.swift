import Glibc

/// Cuts special tokens out of the text before the model's tokenizer sees it (llama.cpp's tokenizer_st_partition):
/// for each special token, longest first, every leftmost occurrence in the text not yet cut becomes that token.
/// User-defined tokens are always cut; control and unknown tokens only when parsing special tokens.
///
/// llama.cpp searches the text once per special token (6,414 of them for Gemma 3). A byte trie first finds which
/// special tokens occur in the text at all; the ordered cut then runs over those few only, with the same result.
struct SpecialTokenSplitter: Sendable {
    /// A piece of the input: raw text (a byte range) or a special token.
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private let order: [Int32: Int]
    private let texts: [Int32: [UInt8]]
    private let alwaysCut: Set<Int32>
    private let trie: ByteTrie

    init(vocabulary: Vocabulary) {
        var order: [Int32: Int] = [:]
        var texts: [Int32: [UInt8]] = [:]
        var alwaysCut = Set<Int32>()
        var trie = ByteTrie()
        for (rank, token) in vocabulary.specialTokens.enumerated() {
            let text = vocabulary.text(of: token)
            order[token] = rank
            texts[token] = text
            if vocabulary.attributes(of: token).isDisjoint(with: [.control, .unknown]) { alwaysCut.insert(token) }
            trie.insert(text, value: token)
        }
        self.order = order
        self.texts = texts
        self.alwaysCut = alwaysCut
        self.trie = trie
    }

    /// The fragments of `text` in order.
    func split(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !text.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0 ..< text.count)]
        let present = trie.values(occurringIn: text)
            .filter { parseSpecial || alwaysCut.contains($0) }
            .sorted { order[$0]! < order[$1]! }
        for token in present {
            fragments = cut(token, texts[token]!, from: fragments, in: text)
        }
        return fragments
    }

    private func cut(_ token: Int32, _ needle: [UInt8], from fragments: [Fragment], in text: [UInt8]) -> [Fragment] {
        var result: [Fragment] = []
        result.reserveCapacity(fragments.count + 2)
        for fragment in fragments {
            guard case .text(var range) = fragment else {
                result.append(fragment)
                continue
            }
            while let match = Self.find(needle, in: text, range) {
                if match > range.lowerBound { result.append(.text(range.lowerBound ..< match)) }
                result.append(.token(token))
                range = match + needle.count ..< range.upperBound
            }
            if !range.isEmpty { result.append(.text(range)) }
        }
        return result
    }

    /// The first index of `needle` in `text[range]`.
    private static func find(_ needle: [UInt8], in text: [UInt8], _ range: Range<Int>) -> Int? {
        guard !needle.isEmpty, range.count >= needle.count else { return nil }
        return text.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                // SAFETY: every pointer stays inside `range` of the haystack: a candidate start is at most
                // range.upperBound - needle.count, and memchr/memcmp are given lengths that end there.
                let base = haystack.baseAddress!
                let first = Int32(needle[0])
                var start = range.lowerBound
                let last = range.upperBound - needle.count
                while start <= last {
                    guard let hit = memchr(base + start, first, last - start + 1) else { return nil }
                    let position = UnsafeRawPointer(hit) - base
                    if memcmp(base + position, needle.baseAddress!, needle.count) == 0 { return position }
                    start = position + 1
                }
                return nil
            }
        }
    }
}

/// A trie over byte strings that finds which of them occur anywhere in a text.
struct ByteTrie: Sendable {
    /// Edges keyed by (node << 8 | byte).
    private var edges: [Int: Int32] = [:]
    /// The value ending at each node, if any.
    private var values: [Int32?] = [nil]
    private var firstBytes = [Bool](repeating: false, count: 256)

    mutating func insert(_ key: [UInt8], value: Int32) {
        guard let first = key.first else { return }
        firstBytes[Int(first)] = true
        var node = 0
        for byte in key {
            let edge = node << 8 | Int(byte)
            if let next = edges[edge] {
                node = Int(next)
            } else {
                values.append(nil)
                edges[edge] = Int32(values.count - 1)
                node = values.count - 1
            }
        }
        values[node] = value
    }

    /// The values of all keys that occur in `text`.
    func values(occurringIn text: [UInt8]) -> Set<Int32> {
        var found = Set<Int32>()
        for start in text.indices where firstBytes[Int(text[start])] {
            var node = 0
            var index = start
            while index < text.count, let next = edges[node << 8 | Int(text[index])] {
                node = Int(next)
                if let value = values[node] { found.insert(value) }
                index += 1
            }
        }
        return found
    }
}
