/// One deterministic path through a grammar, advanced byte by byte: the containers it is inside (`frames`) and
/// what it is matching right now (`position`).
///
/// Bytes inside strings, numbers and literals change only `position`, a few inline bytes, so copying a matcher
/// and advancing the copy (what the token trie walk does at every node) allocates nothing. `anyOf` is the one
/// place a grammar branches: a matcher whose position is a value of an anyOf node is split with `branches(_:)`
/// into one matcher per alternative before it takes the next byte.
struct JSONMatcher: Equatable, Sendable {
    /// An object or array the matcher is inside.
    struct Frame: Equatable, Sendable {
        /// The object or array node.
        var node: NodeID
        /// Objects: the next declared property that may come. Arrays: the items so far.
        var index: UInt32
        /// Whether the container is an array.
        var isArray: Bool
    }

    /// What the next byte continues.
    enum Position: Equatable, Sendable {
        /// Before a value of `node`.
        case value(NodeID, WhitespaceRun)
        /// After `[`: the first item (of `item`, one branch of the items node) or `]`.
        case arrayStart(item: NodeID, WhitespaceRun)
        /// After `{`: a key or `}`.
        case objectStart(WhitespaceRun)
        /// After a `,` in an object: a key.
        case keyStart(WhitespaceRun)
        /// Inside a declared key (`"name"`): candidates `lo..<hi` of the frame's key window share `offset` bytes.
        case key(lo: UInt32, hi: UInt32, offset: UInt32)
        /// Inside a free string: a string value, or a key of an object with free keys.
        case string(StringLexer, isKey: Bool)
        /// After a key: `:`, then a value of `node`.
        case afterKey(NodeID, WhitespaceRun)
        /// After a value inside a container: `,` or the closing bracket.
        case afterValue(WhitespaceRun)
        /// Inside a literal: candidates `lo..<hi` of `literalSets[set]` share `offset` bytes.
        case literal(set: UInt32, lo: UInt32, hi: UInt32, offset: UInt32)
        /// Inside a number.
        case number(NumberLexer)
        /// The top-level value is complete.
        case done
    }

    /// Containers deeper than this are refused (recursive schemas stay bounded).
    static let maxDepth = 32

    var frames: [Frame] = []
    var position: Position

    /// A matcher before the top-level value of `program`.
    init(program: GrammarProgram) {
        position = .value(program.root, .leading)
    }

    /// Whether the bytes so far are one complete value (a top-level number or literal may still grow).
    func isComplete(_ program: GrammarProgram) -> Bool {
        switch position {
        case .done: return true
        case .number(let lexer): return frames.isEmpty && lexer.isComplete
        case let .literal(set, lo, hi, offset):
            return frames.isEmpty && program.literalSets[Int(set)].isComplete(lo: lo, hi: hi, offset: offset)
        default: return false
        }
    }

    /// Whether the matcher is inside a string between characters, where a plain-content token changes nothing.
    var isInStringContent: Bool {
        if case .string(let lexer, _) = position { return lexer.isAtBoundary }
        return false
    }

    /// Whether the position is before a value of an anyOf node, so `branches` must split it before the next byte.
    func isBranchPoint(_ program: GrammarProgram) -> Bool {
        switch position {
        case .value(let node, _), .arrayStart(let node, _): return program.alternatives(of: node) != nil
        default: return false
        }
    }

    /// One matcher per alternative of the anyOf node at the position (see `isBranchPoint`).
    func branches(_ program: GrammarProgram) -> [JSONMatcher] {
        switch position {
        case .value(let node, let run):
            return program.alternatives(of: node)!.map { var copy = self; copy.position = .value($0, run); return copy }
        case .arrayStart(let node, let run):
            return program.alternatives(of: node)!.map { var copy = self; copy.position = .arrayStart(item: $0, run); return copy }
        default:
            return [self]
        }
    }

    /// Takes `byte`; false (and the matcher unusable) if the grammar does not allow it here.
    mutating func advance(_ byte: UInt8, _ program: GrammarProgram) -> Bool {
        switch position {
        case .string(var lexer, let isKey):
            switch lexer.advance(byte) {
            case .more: position = .string(lexer, isKey: isKey)
            case .close: if isKey { endFreeKey(program) } else { endValue() }
            case .reject: return false
            }
            return true
        case .number(var lexer):
            switch lexer.advance(byte) {
            case .more: position = .number(lexer); return true
            case .end: endValue(); return advance(byte, program)
            case .reject: return false
            }
        case let .literal(set, lo, hi, offset):
            return advanceLiteral(byte, set: set, lo: lo, hi: hi, offset: offset, program)
        case let .key(lo, hi, offset):
            return advanceKey(byte, lo: lo, hi: hi, offset: offset, program)
        case .value(let node, var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .value(node, run); return true }
            return startValue(node, byte, program)
        case .arrayStart(let item, var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .arrayStart(item: item, run); return true }
            return advanceArrayStart(item, run, byte, program)
        case .objectStart(var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .objectStart(run); return true }
            if byte == UInt8(ascii: "}") { return close(program) }
            return byte == UInt8(ascii: "\"") && startKey(program)
        case .keyStart(var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .keyStart(run); return true }
            return byte == UInt8(ascii: "\"") && startKey(program)
        case .afterKey(let node, var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .afterKey(node, run); return true }
            guard byte == UInt8(ascii: ":") else { return false }
            position = .value(node, WhitespaceRun())
            return true
        case .afterValue(var run):
            if WhitespaceRun.isWhitespace(byte) { guard run.add(byte) else { return false }; position = .afterValue(run); return true }
            return advanceAfterValue(byte, program)
        case .done:
            return false
        }
    }

    // MARK: - Values

    private mutating func startValue(_ node: NodeID, _ byte: UInt8, _ program: GrammarProgram) -> Bool {
        switch program.nodes[Int(node)] {
        case .any:
            switch byte {
            case UInt8(ascii: "{"): return open(GrammarProgram.anyObject, program)
            case UInt8(ascii: "["): return open(GrammarProgram.anyArray, program)
            case UInt8(ascii: "\""): position = .string(StringLexer(), isKey: false); return true
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return startValue(GrammarProgram.anyLiteral, byte, program)
            default: return startValue(GrammarProgram.anyNumber, byte, program)
            }
        case .string:
            guard byte == UInt8(ascii: "\"") else { return false }
            position = .string(StringLexer(), isKey: false)
            return true
        case .number(let integer):
            position = .number(NumberLexer(integerOnly: integer))
            return advance(byte, program)
        case .literals(let set):
            position = .literal(set: set, lo: 0, hi: UInt32(program.literalSets[Int(set)].texts.count), offset: 0)
            return advance(byte, program)
        case .object:
            return byte == UInt8(ascii: "{") && open(node, program)
        case .array:
            return byte == UInt8(ascii: "[") && open(node, program)
        case .anyOf:
            preconditionFailure("an anyOf value must be split with branches(_:) first")
        }
    }

    private mutating func advanceLiteral(_ byte: UInt8, set: UInt32, lo: UInt32, hi: UInt32, offset: UInt32,
                                         _ program: GrammarProgram) -> Bool {
        let literals = program.literalSets[Int(set)]
        let next = literals.narrow(lo: lo, hi: hi, offset: offset, byte: byte)
        if next.lo == next.hi {
            guard literals.isComplete(lo: lo, hi: hi, offset: offset) else { return false }
            endValue()
            return advance(byte, program)
        }
        if next.hi - next.lo == 1 && literals.isComplete(lo: next.lo, hi: next.hi, offset: offset + 1) {
            endValue()
        } else {
            position = .literal(set: set, lo: next.lo, hi: next.hi, offset: offset + 1)
        }
        return true
    }

    /// Ends the current value: the container is told, or the matcher is done.
    mutating func endValue() {
        guard let last = frames.indices.last else { position = .done; return }
        position = .afterValue(WhitespaceRun())
        if frames[last].isArray { frames[last].index += 1 }
    }
}
