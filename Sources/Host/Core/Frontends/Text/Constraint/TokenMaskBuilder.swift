/// Computes which tokens a set of matchers allows by walking a `TokenTrie` depth first: each trie edge advances a
/// copy of the matcher by one byte, and a subtree is skipped as soon as its prefix is refused, so only viable
/// prefixes are visited. Inside a string the plain-content tokens (most of a vocabulary) are allowed as one
/// precomputed bitset and only the irregular trie is walked.
struct TokenMaskBuilder {
    private let program: GrammarProgram
    private let index: TokenIndex
    /// [ceil(vocabulary / 32)] words; bit t % 32 of word t / 32 = token t allowed.
    private(set) var mask: [UInt32]

    init(program: GrammarProgram, index: TokenIndex) {
        self.program = program
        self.index = index
        mask = [UInt32](repeating: 0, count: (index.vocabularySize + 31) / 32)
    }

    /// Adds the tokens `matcher` can take next.
    mutating func add(_ matcher: JSONMatcher) {
        if matcher.isInStringContent {
            for word in mask.indices { mask[word] |= index.plainString[word] }
            walk(index.irregular, from: 0, matcher)
        } else {
            walk(index.all, from: 0, matcher)
        }
    }

    /// Allows `token`.
    mutating func allow(_ token: Int32) {
        guard token >= 0, Int(token) < index.vocabularySize else { return }
        mask[Int(token) / 32] |= 1 << UInt32(token % 32)
    }

    private mutating func walk(_ trie: TokenTrie, from node: Int, _ matcher: JSONMatcher) {
        if matcher.isBranchPoint(program) {
            for branch in matcher.branches(program) { walk(trie, from: node, branch) }
            return
        }
        var child = node + 1
        let end = Int(trie.ends[node])
        while child < end {
            var next = matcher
            if next.advance(trie.bytes[child], program) {
                for slot in Int(trie.tokenStarts[child])..<Int(trie.tokenStarts[child + 1]) { allow(trie.tokens[slot]) }
                if Int(trie.ends[child]) > child + 1 { walk(trie, from: child, next) }
            }
            child = Int(trie.ends[child])
        }
    }
}
