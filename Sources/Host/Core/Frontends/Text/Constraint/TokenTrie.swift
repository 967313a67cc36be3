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
