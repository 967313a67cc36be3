/// How values print: Python's `str()` (what `{{ x }}` and `~` produce) and `repr()` (how lists and dicts show
/// their items), so that templates that print containers or numbers match Jinja byte for byte.
extension TemplateValue {
    /// Python's `str(value)`, as Jinja prints it; undefined prints as "".
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return pythonRepr
        }
    }

    /// Python's `repr(value)`.
    public var pythonRepr: String {
        var out = ""
        _ = writeRepr(into: &out, limit: .max)
        return out
    }

    /// `str(value)`, or nil if it would be longer than `limit` bytes (a list can print far larger than it is).
    func pythonString(limit: Int) -> String? {
        if case .string(let value) = self { return value.utf8.count <= limit ? value : nil }
        if case .undefined = self { return "" }
        var out = ""
        return writeRepr(into: &out, limit: limit) ? out : nil
    }

    /// Appends `repr(value)`; stops and returns false once `out` exceeds `limit` bytes.
    private func writeRepr(into out: inout String, limit: Int) -> Bool {
        switch self {
        case .undefined: out += "Undefined"
        case .none: out += "None"
        case .bool(let value): out += value ? "True" : "False"
        case .int(let value): out += String(value)
        case .double(let value): out += Self.pythonFloat(value)
        case .string(let value): out += Self.pythonQuoted(value)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += ", " }
                guard item.writeRepr(into: &out, limit: limit) else { return false }
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, pair) in object.pairs.enumerated() {
                if index > 0 { out += ", " }
                out += Self.pythonQuoted(pair.key) + ": "
                guard pair.value.writeRepr(into: &out, limit: limit) else { return false }
            }
            out += "}"
        case .handle(let handle): out += "<\(handle.typeName)>"
        }
        return out.utf8.count <= limit
    }

    /// How deeply lists and dicts nest in this value, counting at most `limit + 1` levels.
    func nestingDepth(limit: Int) -> Int {
        let children: [TemplateValue]
        switch self {
        case .array(let items): children = items
        case .object(let object): children = object.values
        default: return 0
        }
        guard limit > 0 else { return 1 }
        var deepest = 0
        for child in children {
            switch child {
            case .array, .object: deepest = max(deepest, child.nestingDepth(limit: limit - 1))
            default: continue
            }
            if deepest >= limit { break }
        }
        return deepest + 1
    }

    /// Python's `repr(float)`: the shortest text that reads back as the same double.
    ///
    /// Swift's `description` uses the same shortest-digits algorithm and the same switch to exponent notation
    /// (exponent < -4 or >= 16), so only the non-finite spellings differ.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return value.description
    }

    /// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func pythonQuoted(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\": out.append("\\"); out.append(scalar)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(scalar) {
                    out.append(scalar)
                } else {
                    out.append(contentsOf: hexEscape(scalar).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `str.isprintable()` for one character: not a control, format, surrogate, private-use,
    /// unassigned or separator character, except the ASCII space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
             .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func hexEscape(_ scalar: Unicode.Scalar) -> String {
        let value = scalar.value
        let (prefix, width) = value <= 0xFF ? ("\\x", 2) : value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
        let digits = String(value, radix: 16)
        return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
