/// An independent strict JSON reader for checking generated output (RFC 8259: no trailing commas, no leading
/// zeros, no raw control characters in strings, valid UTF-8, no lone surrogate escapes).
indirect enum StrictJSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([StrictJSON])
    case object([String: StrictJSON], keys: [String])

    /// The value of `text`, or nil when it is not exactly one JSON value (surrounding whitespace allowed).
    static func parse(_ text: [UInt8]) -> StrictJSON? {
        guard String(validating: text, as: UTF8.self) != nil else { return nil }
        var reader = Reader(bytes: text)
        guard let value = reader.value() else { return nil }
        reader.skipSpace()
        return reader.at == text.count ? value : nil
    }

    subscript(key: String) -> StrictJSON? {
        if case .object(let members, _) = self { return members[key] }
        return nil
    }

    var keys: [String] { if case .object(_, let keys) = self { return keys }; return [] }
    var items: [StrictJSON]? { if case .array(let items) = self { return items }; return nil }
    var isString: Bool { if case .string = self { return true }; return false }
    var isInteger: Bool { if case .number(let text) = self { return !text.contains { ".eE".contains($0) } }; return false }
    var isNumber: Bool { if case .number = self { return true }; return false }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        var current: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() { while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { at += 1 } }

        mutating func literal(_ text: String) -> Bool {
            let expected = Array(text.utf8)
            guard at + expected.count <= bytes.count, Array(bytes[at..<at + expected.count]) == expected else { return false }
            at += expected.count
            return true
        }

        mutating func value() -> StrictJSON? {
            skipSpace()
            switch current {
            case UInt8(ascii: "{")?: return object()
            case UInt8(ascii: "[")?: return array()
            case UInt8(ascii: "\"")?: return string().map(StrictJSON.string)
            case UInt8(ascii: "t")?: return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f")?: return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n")?: return literal("null") ? .null : nil
            default: return number()
            }
        }

        mutating func object() -> StrictJSON? {
            at += 1
            var members: [String: StrictJSON] = [:], keys: [String] = []
            skipSpace()
            if current == UInt8(ascii: "}") { at += 1; return .object(members, keys: keys) }
            while true {
                skipSpace()
                guard current == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard literal(":"), let value = value() else { return nil }
                members[key] = value
                keys.append(key)
                skipSpace()
                if literal(",") { continue }
                return literal("}") ? .object(members, keys: keys) : nil
            }
        }

        mutating func array() -> StrictJSON? {
            at += 1
            var items: [StrictJSON] = []
            skipSpace()
            if current == UInt8(ascii: "]") { at += 1; return .array(items) }
            while true {
                guard let item = value() else { return nil }
                items.append(item)
                skipSpace()
                if literal(",") { continue }
                return literal("]") ? .array(items) : nil
            }
        }

        mutating func string() -> String? {
            at += 1
            var out: [UInt8] = []
            while let c = current {
                at += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { return nil }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard let e = current else { return nil }
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): out.append(0x20)
                case UInt8(ascii: "u"):
                    guard at + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { return nil }  // lone surrogates fail here
                    at += 4
                    out += Array(String(scalar).utf8)
                default: return nil
                }
            }
            return nil
        }

        mutating func number() -> StrictJSON? {
            let start = at
            func digits(_ r: inout Reader) -> Int { let s = r.at; while let c = r.current, c >= 0x30, c <= 0x39 { r.at += 1 }; return r.at - s }
            if current == UInt8(ascii: "-") { at += 1 }
            if current == UInt8(ascii: "0") { at += 1 } else if digits(&self) == 0 { return nil }
            if current == UInt8(ascii: ".") { at += 1; guard digits(&self) > 0 else { return nil } }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                at += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { at += 1 }
                guard digits(&self) > 0 else { return nil }
            }
            return .number(String(decoding: bytes[start..<at], as: UTF8.self))
        }
    }
}
