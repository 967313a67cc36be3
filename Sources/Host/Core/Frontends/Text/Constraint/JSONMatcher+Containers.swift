/// Objects and arrays: opening, keys, separators, closing.
extension JSONMatcher {
    /// Enters object or array `node` (its opening bracket was the byte).
    mutating func open(_ node: NodeID, _ program: GrammarProgram) -> Bool {
        guard frames.count < Self.maxDepth else { return false }
        switch program.nodes[Int(node)] {
        case .object:
            frames.append(Frame(node: node, index: 0, isArray: false))
            position = .objectStart(WhitespaceRun())
        case .array(let items, _, _):
            frames.append(Frame(node: node, index: 0, isArray: true))
            position = .arrayStart(item: items, WhitespaceRun())
        default:
            preconditionFailure("only objects and arrays are opened")
        }
        return true
    }

    /// The byte after `[` and its whitespace: `]` or the first item.
    mutating func advanceArrayStart(_ item: NodeID, _ run: WhitespaceRun, _ byte: UInt8, _ program: GrammarProgram) -> Bool {
        guard case let .array(_, minimum, maximum) = program.nodes[Int(frames[frames.count - 1].node)] else { return false }
        if byte == UInt8(ascii: "]") { return minimum == 0 && close(program) }
        guard maximum > 0 else { return false }
        position = .value(item, run)
        return advance(byte, program)
    }

    /// The byte after a value inside a container: `,` or the closing bracket.
    mutating func advanceAfterValue(_ byte: UInt8, _ program: GrammarProgram) -> Bool {
        let frame = frames[frames.count - 1]
        switch program.nodes[Int(frame.node)] {
        case let .array(items, minimum, maximum):
            if byte == UInt8(ascii: "]") { return frame.index >= minimum && close(program) }
            guard byte == UInt8(ascii: ","), frame.index < maximum else { return false }
            position = .value(items, WhitespaceRun())
            return true
        case .object(let shape):
            if byte == UInt8(ascii: "}") { return close(program) }
            guard byte == UInt8(ascii: ","), hasMoreKeys(program.objects[Int(shape)], frame) else { return false }
            position = .keyStart(WhitespaceRun())
            return true
        default:
            return false
        }
    }

    /// Leaves the innermost container if it may end here (required properties present, enough items).
    mutating func close(_ program: GrammarProgram) -> Bool {
        let frame = frames[frames.count - 1]
        if case .object(let shape) = program.nodes[Int(frame.node)] {
            let object = program.objects[Int(shape)]
            guard object.hasFreeKeys || object.canClose[Int(frame.index)] else { return false }
        }
        frames.removeLast()
        endValue()
        return true
    }

    /// The opening quote of a key: a declared key (matched against the window of keys that may come next) or a
    /// free one.
    mutating func startKey(_ program: GrammarProgram) -> Bool {
        let frame = frames[frames.count - 1]
        guard case .object(let shape) = program.nodes[Int(frame.node)] else { return false }
        let object = program.objects[Int(shape)]
        guard hasMoreKeys(object, frame) else { return false }
        if object.hasFreeKeys {
            position = .string(StringLexer(), isKey: true)
            return true
        }
        return advanceKey(UInt8(ascii: "\""), lo: 0, hi: UInt32(object.windows[Int(frame.index)].texts.count), offset: 0, program)
    }

    /// A byte of a declared key; the closing quote selects the property.
    mutating func advanceKey(_ byte: UInt8, lo: UInt32, hi: UInt32, offset: UInt32, _ program: GrammarProgram) -> Bool {
        let last = frames.count - 1
        guard case .object(let shape) = program.nodes[Int(frames[last].node)] else { return false }
        let object = program.objects[Int(shape)]
        let window = object.windows[Int(frames[last].index)]
        let next = window.narrow(lo: lo, hi: hi, offset: offset, byte: byte)
        guard next.lo < next.hi else { return false }
        // Keys end with their closing quote and hold no other unescaped quote, so a complete key is the only one.
        if window.isComplete(lo: next.lo, hi: next.hi, offset: offset + 1) {
            let property = window.properties[Int(next.lo)]
            frames[last].index = property + 1
            position = .afterKey(object.values[Int(property)], WhitespaceRun())
        } else {
            position = .key(lo: next.lo, hi: next.hi, offset: offset + 1)
        }
        return true
    }

    /// The closing quote of a free key: its value follows the additional-properties schema.
    mutating func endFreeKey(_ program: GrammarProgram) {
        guard case .object(let shape) = program.nodes[Int(frames[frames.count - 1].node)],
              let additional = program.objects[Int(shape)].additional else { preconditionFailure("free key outside a free object") }
        position = .afterKey(additional, WhitespaceRun())
    }

    private func hasMoreKeys(_ object: ObjectShape, _ frame: Frame) -> Bool {
        object.hasFreeKeys || !object.windows[Int(frame.index)].texts.isEmpty
    }
}
