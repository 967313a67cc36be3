/// Index of a node in a `GrammarProgram`.
typealias NodeID = UInt32

/// One kind of JSON value a schema allows. Plain data (indices into the program's side tables) so the byte
/// matcher can read nodes in its inner loop without reference counting.
enum GrammarNode: Equatable, Sendable {
    /// Any JSON value (json_object mode, or a schema without constraints).
    case any
    /// Any JSON string.
    case string
    /// A JSON number; `integer` forbids a fraction and an exponent.
    case number(integer: Bool)
    /// Exactly one of the texts in `literalSets[set]` (enum, const, boolean, null).
    case literals(set: UInt32)
    /// An object shaped by `objects[shape]`.
    case object(shape: UInt32)
    /// An array of `items` with `min...max` elements.
    case array(items: NodeID, min: UInt32, max: UInt32)
    /// Any one of `unions[union]` (anyOf, type lists, nullable).
    case anyOf(union: UInt32)
}

/// Byte strings matched by prefix: kept sorted, so the candidates sharing a prefix are one contiguous range.
struct LiteralSet: Sendable {
    /// The texts, sorted bytewise (a text comes before its extensions).
    var texts: [[UInt8]]
    /// For key windows: the property index each text names, parallel to `texts`.
    var properties: [UInt32] = []

    init(_ texts: [[UInt8]]) {
        self.texts = Array(Set(texts)).sorted { $0.lexicographicallyPrecedes($1) }
    }

    init(keys: [(text: [UInt8], property: UInt32)]) {
        let sorted = keys.sorted { $0.text.lexicographicallyPrecedes($1.text) }
        texts = sorted.map(\.text)
        properties = sorted.map(\.property)
    }

    /// The sub-range of `lo..<hi` (texts sharing a prefix of length `offset`) whose byte at `offset` is `byte`.
    func narrow(lo: UInt32, hi: UInt32, offset: UInt32, byte: UInt8) -> (lo: UInt32, hi: UInt32) {
        let at = Int(offset)
        var first = Int(lo)
        let end = Int(hi)
        while first < end, texts[first].count <= at || texts[first][at] < byte { first += 1 }
        var last = first
        while last < end, texts[last][at] == byte { last += 1 }
        return (UInt32(first), UInt32(last))
    }

    /// Whether the first text of a range sharing `offset` bytes is exactly that prefix (a complete match).
    func isComplete(lo: UInt32, hi: UInt32, offset: UInt32) -> Bool {
        lo < hi && texts[Int(lo)].count == Int(offset)
    }
}

/// The keys an object may have, in the order they must appear.
struct ObjectShape: Sendable {
    /// Declared property values, in schema order.
    var values: [NodeID] = []
    /// Per next-property index i (0...count): the keys that may come next, quoted (`"name"`), i.e. property i and
    /// the optional ones after it up to the first required one.
    var windows: [LiteralSet] = []
    /// Per next-property index i: whether `}` may come (no required property at i or later).
    var canClose: [Bool] = []
    /// With no declared properties: the schema of every value under any key, or nil when the object must be empty.
    var additional: NodeID?

    init(keys: [[UInt8]], values: [NodeID], required: [Bool], additional: NodeID?) {
        self.values = values
        self.additional = keys.isEmpty ? additional : nil
        for start in 0...keys.count {
            var window: [(text: [UInt8], property: UInt32)] = []
            var index = start
            while index < keys.count {
                window.append((keys[index], UInt32(index)))
                if required[index] { break }
                index += 1
            }
            windows.append(LiteralSet(keys: window))
            canClose.append(!required[start...].contains(true))
        }
    }

    /// Whether keys are free (any string) rather than declared.
    var hasFreeKeys: Bool { values.isEmpty && additional != nil }
}

/// A compiled grammar: the nodes and their side tables. Nodes 0...5 are the fixed ones json_object mode uses.
struct GrammarProgram: Sendable {
    var nodes: [GrammarNode]
    var literalSets: [LiteralSet]
    var objects: [ObjectShape]
    /// Per anyOf node: its alternatives, flattened (none is itself an anyOf).
    var unions: [[NodeID]]
    var root: NodeID

    static let anyValue: NodeID = 0
    static let anyObject: NodeID = 1
    static let anyArray: NodeID = 2
    static let anyLiteral: NodeID = 3
    static let anyString: NodeID = 4
    static let anyNumber: NodeID = 5
    /// The literal set of `true`, `false`, `null`.
    static let keywordSet: UInt32 = 0

    /// The fixed nodes, rooted at "any object".
    static func base() -> GrammarProgram {
        GrammarProgram(
            nodes: [.any, .object(shape: 0), .array(items: anyValue, min: 0, max: .max),
                    .literals(set: keywordSet), .string, .number(integer: false)],
            literalSets: [LiteralSet(["true", "false", "null"].map { Array($0.utf8) })],
            objects: [ObjectShape(keys: [], values: [], required: [], additional: anyValue)],
            unions: [], root: anyObject)
    }

    /// Appends `node`, returning its id.
    mutating func add(_ node: GrammarNode) -> NodeID {
        nodes.append(node)
        return NodeID(nodes.count - 1)
    }

    /// The alternatives of `node` if it is an anyOf, else nil.
    func alternatives(of node: NodeID) -> [NodeID]? {
        guard case .anyOf(let union) = nodes[Int(node)] else { return nil }
        return unions[Int(union)]
    }
}
