import Synchronization

/// Every text token of a vocabulary in a byte trie, built once per vocabulary and shared by all its grammars.
///
/// Nodes are laid out in depth-first preorder: node i's subtree is `i..<ends[i]`, its first child is i + 1 and the
/// next sibling of child c is `ends[c]`. Special tokens (empty pieces: control, unknown, unused) are left out.
struct TokenTrie: Sendable {
    /// The byte on the edge into node i (node 0, the root, has none).
    private(set) var bytes: [UInt8] = [0]
    /// One past the last node of node i's subtree.
    private(set) var ends: [UInt32] = [1]
    /// Tokens whose piece ends at node i: `tokens[tokenStarts[i]..<tokenStarts[i + 1]]`.
    private(set) var tokenStarts: [UInt32] = [0]
    private(set) var tokens: [Int32] = []

    /// The number of nodes, root included.
    var count: Int { bytes.count }

    /// The trie of `pieces` (token id, bytes), which need not be sorted.
    init(_ pieces: [(token: Int32, bytes: [UInt8])]) {
        let sorted = pieces.filter { !$0.bytes.isEmpty }.sorted {
            $0.bytes == $1.bytes ? $0.token < $1.token : $0.bytes.lexicographicallyPrecedes($1.bytes)
        }
        var path: [Int] = [0]  // path[d] = node at depth d of the previous piece
        var previous: [UInt8] = []
        for piece in sorted {
            var shared = 0
            while shared < previous.count, shared < piece.bytes.count, previous[shared] == piece.bytes[shared] { shared += 1 }
            while path.count > shared + 1 { ends[path.removeLast()] = UInt32(bytes.count) }
            for byte in piece.bytes[shared...] {
                path.append(bytes.count)
                bytes.append(byte)
                ends.append(0)
                tokenStarts.append(UInt32(tokens.count))
            }
            tokens.append(piece.token)
            previous = piece.bytes
        }
        for node in path { ends[node] = UInt32(bytes.count) }
        tokenStarts.append(UInt32(tokens.count))
    }
}

/// The tries and token classes a vocabulary's grammars share (see `TokenTrie`), cached by vocabulary content.
final class TokenIndex: Sendable {
    /// The number of token ids (mask bits).
    let vocabularySize: Int
    /// Every text token.
    let all: TokenTrie
    /// Text tokens that are not plain string content: the only ones a string walk has to look at.
    let irregular: TokenTrie
    /// Bitset of the tokens that are plain string content (`StringLexer.isPlainContent`).
    let plainString: [UInt32]
    /// Each token's bytes, special tokens empty.
    let pieces: [[UInt8]]

    private init(vocabulary: Vocabulary) {
        vocabularySize = vocabulary.count
        pieces = (0..<vocabulary.count).map { vocabulary.piece(Int32($0), special: false) }
        var plain = [UInt32](repeating: 0, count: (vocabulary.count + 31) / 32)
        var irregularPieces: [(token: Int32, bytes: [UInt8])] = []
        for (token, piece) in pieces.enumerated() where !piece.isEmpty {
            if StringLexer.isPlainContent(piece) {
                plain[token / 32] |= 1 << UInt32(token % 32)
            } else {
                irregularPieces.append((Int32(token), piece))
            }
        }
        plainString = plain
        all = TokenTrie(pieces.enumerated().map { (Int32($0.offset), $0.element) })
        irregular = TokenTrie(irregularPieces)
    }

    private static let cache = Mutex<[Fingerprint: TokenIndex]>([:])

    /// The index of `vocabulary`, built on first use and kept for later grammars of the same vocabulary.
    static func shared(for vocabulary: Vocabulary) -> TokenIndex {
        let key = Fingerprint(vocabulary)
        if let index = cache.withLock({ $0[key] }) { return index }
        let index = TokenIndex(vocabulary: vocabulary)  // built outside the lock; a racing twin is harmless
        return cache.withLock { entries in
            if entries.count >= 8 { entries.removeAll() }
            if let existing = entries[key] { return existing }
            entries[key] = index
            return index
        }
    }

    /// A vocabulary's identity by content: size, model and an FNV-1a hash of every token's stored text and
    /// attributes (vocabularies are values, so there is no object identity to key on).
    private struct Fingerprint: Hashable {
        let count: Int
        let hash: UInt64

        init(_ vocabulary: Vocabulary) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            for byte in vocabulary.model.rawValue.utf8 { mix(byte) }
            for token in 0..<Int32(vocabulary.count) {
                for byte in vocabulary.text(of: token) { mix(byte) }
                mix(0xFF)
                mix(UInt8(truncatingIfNeeded: vocabulary.attributes(of: token).rawValue))
            }
            count = vocabulary.count
            self.hash = hash
        }
    }
}
