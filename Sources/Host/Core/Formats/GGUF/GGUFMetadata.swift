/// The metadata key/value pairs of a GGUF file, in file order, looked up by key.
public struct GGUFMetadata: Sendable, Sequence {
    /// The keys in file order.
    public private(set) var keys: [String] = []
    private var values: [String: GGUFValue] = [:]

    /// No pairs.
    public init() {}

    /// The number of pairs.
    public var count: Int { keys.count }

    /// The value of `key`, or nil. Setting replaces a value in place or appends a new key (used to derive
    /// variants of a file's metadata, e.g. another pre-tokenizer); setting nil removes the key.
    public subscript(key: String) -> GGUFValue? {
        get { values[key] }
        set {
            if newValue == nil {
                if values.removeValue(forKey: key) != nil { keys.removeAll { $0 == key } }
            } else {
                if values[key] == nil { keys.append(key) }
                values[key] = newValue
            }
        }
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// The pairs in file order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: GGUFValue)> {
        keys.lazy.map { (key: $0, value: values[$0]!) }.makeIterator()
    }
}
