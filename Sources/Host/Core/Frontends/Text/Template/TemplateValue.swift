/// A value inside a template: the Python data model a Jinja chat template sees (None, bool, int, float, str, list,
/// dict), plus Jinja's `Undefined` and the opaque handles a running template makes.
///
/// Equality follows Python: `1 == 1.0`, `True == 1`, dicts compare without regard to key order, and every
/// undefined equals every other undefined.
public enum TemplateValue: Sendable {
    /// Jinja's default `Undefined`: renders as "", is falsy, iterates as empty; most other uses are errors.
    case undefined
    /// Python's `None`.
    case none
    /// Python's `True` / `False`.
    case bool(Bool)
    /// A Python int (64-bit here; results that do not fit are a limit error).
    case int(Int)
    /// A Python float.
    case double(Double)
    /// A Python str; lengths, indexes and slices count Unicode scalars (code points), as Python does.
    case string(String)
    /// A Python list (tuples are lists here too).
    case array([TemplateValue])
    /// A Python dict with string keys, in insertion order.
    case object(TemplateObject)
    /// Something only a running template makes: a namespace, macro, loop or built-in function.
    case handle(TemplateHandle)

    /// Python truthiness: empty strings, lists and dicts, zero, None and undefined are false.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .double(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let object): return !object.isEmpty
        case .handle: return true
        }
    }

    /// Whether this is Jinja's `Undefined`.
    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The Python type name, as error messages use it ("str", "dict", "NoneType", ...).
    public var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .handle(let handle): return handle.typeName
        }
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The numeric value of an int, float or bool (Python's bool is an int), if this is one.
    var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The integer value of an int or bool, if this is one.
    var integer: Int? {
        switch self {
        case .int(let value): return value
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }
}

extension TemplateValue: Equatable {
    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.handle(let a), .handle(let b)): return a == b
        default:
            if let a = lhs.integer, let b = rhs.integer { return a == b }
            if let a = lhs.number, let b = rhs.number { return a == b }
            return false
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .none }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .object(TemplateObject(elements)) }
}

/// A dict with string keys that remembers insertion order, as Python's dict does (`tojson` and `items()` show it).
public struct TemplateObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The keys, in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    /// An empty dict.
    public init() {}

    /// A dict of these pairs; a repeated key keeps its first position and its last value, as in Python.
    public init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self.init(elements) }

    /// The value for a key; setting nil removes the key.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The number of keys.
    public var count: Int { keys.count }
    /// Whether there are no keys.
    public var isEmpty: Bool { keys.isEmpty }
    /// The values, in key order.
    public var values: [TemplateValue] { keys.map { storage[$0]! } }
    /// The (key, value) pairs, in key order.
    public var pairs: [(key: String, value: TemplateValue)] { keys.map { ($0, storage[$0]!) } }

    /// Python dict equality: the same keys with equal values, in any order.
    public static func == (lhs: TemplateObject, rhs: TemplateObject) -> Bool {
        lhs.count == rhs.count && lhs.keys.allSatisfy { key in rhs.storage[key].map { $0 == lhs.storage[key]! } ?? false }
    }
}

/// An opaque reference to something a running template made (a namespace, macro, loop or built-in function).
///
/// It only means something to the render that made it.
public struct TemplateHandle: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case namespace(Int)
        case macro(Int)
        case loop(Int)
        /// A method bound to its receiver, e.g. `text.startswith` not yet called.
        case method(Int)
        case builtin(TemplateBuiltin)
    }

    let kind: Kind

    var typeName: String {
        switch kind {
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .loop: return "LoopContext"
        case .method, .builtin: return "builtin_function_or_method"
        }
    }
}
