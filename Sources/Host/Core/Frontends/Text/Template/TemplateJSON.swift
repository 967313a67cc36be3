/// JSON in and out of template values: `tojson` writes exactly what Python's `json.dumps` writes (transformers
/// defines the chat-template `tojson` as `json.dumps(x, ensure_ascii=False, indent=..., separators=...,
/// sort_keys=...)`), and the reader turns JSON text (tool schemas, tool-call arguments) into values with the key
/// order kept.
public enum TemplateJSON {
    /// The options of `json.dumps` that `tojson` passes through.
    public struct Style: Sendable, Equatable {
        /// The indent string per level, or nil for one line.
        public var indent: String?
        /// Between items; Python's default is ", " on one line and "," when indenting.
        public var itemSeparator: String
        /// Between a key and its value.
        public var keySeparator: String
        /// Sort dict keys by code point.
        public var sortKeys: Bool
        /// Escape every non-ASCII character as \uXXXX.
        public var ensureASCII: Bool

        /// `json.dumps` defaults as transformers calls it (ensure_ascii=False), with an optional indent.
        public init(indent: String? = nil, separators: (item: String, key: String)? = nil, sortKeys: Bool = false,
                    ensureASCII: Bool = false) {
            self.indent = indent
            self.itemSeparator = separators?.item ?? (indent == nil ? ", " : ",")
            self.keySeparator = separators?.key ?? ": "
            self.sortKeys = sortKeys
            self.ensureASCII = ensureASCII
        }
    }

    /// A value JSON cannot express, or JSON text that is not valid.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// What is wrong, and where (a byte offset) for JSON text.
        public let message: String
        /// Whether the text outgrew the size it was allowed (rather than the value being unencodable).
        var exceededSize = false
        public var description: String { message }
    }

    /// Deepest nesting the reader accepts.
    static let maxDepth = 256

    /// The JSON text of a value, as `json.dumps` writes it.
    public static func encode(_ value: TemplateValue, style: Style = Style()) throws(Failure) -> String {
        try encode(value, style: style, maxBytes: .max)
    }

    /// The JSON text of a value; fails once the text grows past `maxBytes` (indents multiply with depth).
    static func encode(_ value: TemplateValue, style: Style, maxBytes: Int) throws(Failure) -> String {
        var out = ""
        try write(value, style: style, level: 0, maxBytes: maxBytes, into: &out)
        return out
    }

    /// The value of a JSON text: objects keep their key order, integers without fraction or exponent stay ints.
    public static func decode(_ text: String) throws(Failure) -> TemplateValue {
        var reader = JSONReader(bytes: Array(text.utf8))
        let value = try reader.readDocument()
        return value
    }

    private static func write(_ value: TemplateValue, style: Style, level: Int, maxBytes: Int,
                              into out: inout String) throws(Failure) {
        guard out.utf8.count <= maxBytes else {
            throw Failure(message: "JSON text exceeds \(maxBytes) bytes", exceededSize: true)
        }
        switch value {
        case .none: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .double(let number):
            if number.isNaN { out += "NaN" } else if number.isInfinite { out += number < 0 ? "-Infinity" : "Infinity" }
            else { out += TemplateValue.pythonFloat(number) }
        case .string(let text): writeString(text, ascii: style.ensureASCII, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                out += index == 0 ? "" : style.itemSeparator
                try newline(style, level + 1, maxBytes, &out)
                try write(item, style: style, level: level + 1, maxBytes: maxBytes, into: &out)
            }
            try newline(style, level, maxBytes, &out)
            out += "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            var pairs = object.pairs
            if style.sortKeys {
                pairs.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value } }
            }
            out += "{"
            for (index, pair) in pairs.enumerated() {
                out += index == 0 ? "" : style.itemSeparator
                try newline(style, level + 1, maxBytes, &out)
                writeString(pair.key, ascii: style.ensureASCII, into: &out)
                out += style.keySeparator
                try write(pair.value, style: style, level: level + 1, maxBytes: maxBytes, into: &out)
            }
            try newline(style, level, maxBytes, &out)
            out += "}"
        case .undefined, .handle:
            throw Failure(message: "Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private static func newline(_ style: Style, _ level: Int, _ maxBytes: Int, _ out: inout String) throws(Failure) {
        guard let indent = style.indent else { return }
        let (size, overflow) = indent.utf8.count.multipliedReportingOverflow(by: level)
        guard !overflow, out.utf8.count + size < maxBytes else {
            throw Failure(message: "JSON text exceeds \(maxBytes) bytes", exceededSize: true)
        }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    /// A JSON string literal with Python's escapes (lowercase hex, \uXXXX for other control characters).
    static func writeString(_ text: String, ascii: Bool, into out: inout String) {
        var scalars = String.UnicodeScalarView()
        scalars.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": scalars.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": scalars.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": scalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": scalars.append(contentsOf: "\\r".unicodeScalars)
            case "\t": scalars.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": scalars.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": scalars.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 || (ascii && scalar.value > 0x7E) {
                    for unit in String(scalar).utf16 { scalars.append(contentsOf: hex4(unit).unicodeScalars) }
                } else {
                    scalars.append(scalar)
                }
            }
        }
        scalars.append("\"")
        out += String(scalars)
    }

    private static func hex4(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// A strict JSON reader over UTF-8 bytes (RFC 8259, plus Python's NaN/Infinity spellings).
private struct JSONReader {
    let bytes: [UInt8]
    var position = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readDocument() throws(TemplateJSON.Failure) -> TemplateValue {
        let value = try readValue()
        skipSpace()
        guard position == bytes.count else { throw fail("extra data") }
        return value
    }

    private mutating func readValue() throws(TemplateJSON.Failure) -> TemplateValue {
        skipSpace()
        guard position < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try nested(isObject: true)
        case UInt8(ascii: "["): return try nested(isObject: false)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .none
        case UInt8(ascii: "N"): try expectWord("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectWord("Infinity"); return .double(.infinity)
        default: return try readNumber()
        }
    }

    private mutating func nested(isObject: Bool) throws(TemplateJSON.Failure) -> TemplateValue {
        depth += 1
        guard depth <= TemplateJSON.maxDepth else { throw fail("JSON nested deeper than \(TemplateJSON.maxDepth)") }
        defer { depth -= 1 }
        return isObject ? try readObject() : try readArray()
    }

    private mutating func readObject() throws(TemplateJSON.Failure) -> TemplateValue {
        position += 1
        var object = TemplateObject()
        skipSpace()
        if peek(UInt8(ascii: "}")) { position += 1; return .object(object) }
        while true {
            skipSpace()
            guard peek(UInt8(ascii: "\"")) else { throw fail("expected a string key") }
            let key = try readString()
            skipSpace()
            guard peek(UInt8(ascii: ":")) else { throw fail("expected ':'") }
            position += 1
            object[key] = try readValue()
            skipSpace()
            if peek(UInt8(ascii: ",")) { position += 1; continue }
            if peek(UInt8(ascii: "}")) { position += 1; return .object(object) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func readArray() throws(TemplateJSON.Failure) -> TemplateValue {
        position += 1
        var items: [TemplateValue] = []
        skipSpace()
        if peek(UInt8(ascii: "]")) { position += 1; return .array(items) }
        while true {
            items.append(try readValue())
            skipSpace()
            if peek(UInt8(ascii: ",")) { position += 1; continue }
            if peek(UInt8(ascii: "]")) { position += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func readString() throws(TemplateJSON.Failure) -> String {
        position += 1
        var out: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"): try readEscape(into: &out)
            case 0..<0x20: throw fail("control character in string")
            default: out.append(byte)
            }
        }
        throw fail("unterminated string")
    }

    private mutating func readEscape(into out: inout [UInt8]) throws(TemplateJSON.Failure) {
        guard position < bytes.count else { throw fail("unterminated escape") }
        let byte = bytes[position]
        position += 1
        // \" \\ \/ \b \f \n \r \t
        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D,
                                      0x74: 0x09]
        if let replacement = simple[byte] { out.append(replacement); return }
        guard byte == UInt8(ascii: "u") else { throw fail("invalid escape") }
        var unit = try readHex4()
        var scalar = Unicode.Scalar(unit)
        if (0xD800..<0xDC00).contains(unit), bytes[position...].starts(with: Array("\\u".utf8)) {
            let save = position
            position += 2
            let low = try readHex4()
            if (0xDC00..<0xE000).contains(low) {
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                scalar = Unicode.Scalar(unit)
            } else {
                position = save
            }
        }
        out.append(contentsOf: String(scalar ?? "\u{FFFD}").utf8)
    }

    private mutating func readHex4() throws(TemplateJSON.Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[position..<position + 4] {
            guard let digit = hexDigit(byte) else { throw fail("invalid \\u escape") }
            value = value * 16 + digit
        }
        position += 4
        return value
    }

    private func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private mutating func readNumber() throws(TemplateJSON.Failure) -> TemplateValue {
        let start = position
        if peek(UInt8(ascii: "-")) {
            position += 1
            if bytes[position...].starts(with: Array("Infinity".utf8)) { position += 8; return .double(-.infinity) }
        }
        var isInteger = true
        guard skipDigits() > 0 else { throw fail("invalid value") }
        if peek(UInt8(ascii: ".")) {
            position += 1
            isInteger = false
            guard skipDigits() > 0 else { throw fail("invalid number") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            position += 1
            isInteger = false
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { position += 1 }
            guard skipDigits() > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw fail("invalid number") }
        return .double(value)
    }

    private mutating func skipDigits() -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return position - start
    }

    private mutating func expectWord(_ word: String) throws(TemplateJSON.Failure) {
        guard bytes[position...].starts(with: Array(word.utf8)) else { throw fail("invalid value") }
        position += word.utf8.count
    }

    private func peek(_ byte: UInt8) -> Bool { position < bytes.count && bytes[position] == byte }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private func fail(_ message: String) -> TemplateJSON.Failure {
        TemplateJSON.Failure(message: "\(message) at byte \(position)")
    }
}
