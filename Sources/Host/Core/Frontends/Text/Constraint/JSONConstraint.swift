/// One request's progress through a `JSONGrammar`: which tokens may come next, advanced by each sampled token.
///
/// A value type: the paths (one matcher per live anyOf branch, usually one) and the end tokens. The text it
/// admits is the concatenated token pieces (special tokens excluded); once that text is one complete JSON value
/// only `endTokens` are allowed.
public struct JSONConstraint: Sendable {
    private let grammar: JSONGrammar
    private let endTokens: [Int32]
    private var paths: [JSONMatcher]

    /// A constraint at the start of the output; `endTokens` (EOS/EOT) are allowed only once the value is complete.
    public init(grammar: JSONGrammar, endTokens: [Int32]) {
        self.grammar = grammar
        self.endTokens = endTokens
        paths = Self.split(JSONMatcher(program: grammar.program), grammar.program)
    }

    /// Bitset of allowed next tokens, [ceil(vocab/32)] UInt32 words, bit t of word t/32 set = token t allowed.
    /// When the JSON value is complete only `endTokens` are allowed (plus digits while a top-level number may grow).
    public mutating func allowedTokens() -> [UInt32] {
        var builder = TokenMaskBuilder(program: grammar.program, index: grammar.index)
        for path in paths { builder.add(path) }
        if isComplete { for token in endTokens { builder.allow(token) } }
        return builder.mask
    }

    /// Advances by a sampled token; returns false (and changes nothing) if the token was not allowed.
    public mutating func accept(_ token: Int32) -> Bool {
        if endTokens.contains(token) { return isComplete }
        guard token >= 0, Int(token) < grammar.index.pieces.count else { return false }
        let piece = grammar.index.pieces[Int(token)]
        guard !piece.isEmpty else { return false }
        var current = paths
        for byte in piece {
            var next: [JSONMatcher] = []
            for var path in current where path.advance(byte, grammar.program) {
                for branch in Self.split(path, grammar.program) where !next.contains(branch) { next.append(branch) }
            }
            guard !next.isEmpty else { return false }
            current = next
        }
        paths = current
        return true
    }

    /// The output so far is one complete JSON value matching the grammar.
    public var isComplete: Bool { paths.contains { $0.isComplete(grammar.program) } }

    /// `matcher`, or its branches when it stands before an anyOf value.
    private static func split(_ matcher: JSONMatcher, _ program: GrammarProgram) -> [JSONMatcher] {
        matcher.isBranchPoint(program) ? matcher.branches(program) : [matcher]
    }
}
