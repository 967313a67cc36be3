/// The inside of a JSON string, one byte at a time: any valid UTF-8 (checked incrementally, no overlong forms,
/// surrogates or code points past U+10FFFF), the JSON escapes, no raw control characters.
struct StringLexer: Equatable, Sendable {
    /// What a byte did to the string.
    enum Step { case more, close, reject }

    /// Continuation bytes still owed by the current UTF-8 sequence.
    private var pending: UInt8 = 0
    /// The range the next continuation byte must fall in (see `accepts`).
    private var range: UInt8 = 0
    /// 0: plain; 1: after a backslash; 2...5: expecting hex digit 1...4 of \uXXXX; 6: hex digit 2 after a leading D.
    private var escape: UInt8 = 0

    /// Between characters: no escape or UTF-8 sequence open. From here a plain token keeps the lexer here.
    var isAtBoundary: Bool { pending == 0 && escape == 0 }

    mutating func advance(_ byte: UInt8) -> Step {
        if pending > 0 {
            guard Self.accepts(byte, range) else { return .reject }
            pending -= 1
            range = 0
            return .more
        }
        if escape != 0 { return advanceEscape(byte) }
        switch byte {
        case UInt8(ascii: "\""): return .close
        case UInt8(ascii: "\\"): escape = 1; return .more
        case 0..<0x20: return .reject
        case 0x20..<0x80: return .more
        case 0xC2...0xDF: pending = 1
        case 0xE0: pending = 2; range = 1
        case 0xED: pending = 2; range = 2
        case 0xE1...0xEF: pending = 2
        case 0xF0: pending = 3; range = 3
        case 0xF1...0xF3: pending = 3
        case 0xF4: pending = 3; range = 4
        default: return .reject  // stray continuation byte, C0, C1, F5...FF
        }
        return .more
    }

    private mutating func advanceEscape(_ byte: UInt8) -> Step {
        if escape == 1 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                escape = 0
            case UInt8(ascii: "u"): escape = 2
            default: return .reject
            }
            return .more
        }
        guard let digit = Self.hexValue(byte) else { return .reject }
        switch escape {
        case 2: escape = digit == 0xD ? 6 : 3  // \uD800-\uDFFF (surrogates) are refused: write the character raw
        case 6: guard digit < 8 else { return .reject }; escape = 4
        case 5: escape = 0
        default: escape += 1
        }
        return .more
    }

    /// Whether continuation `byte` is in range code `range`: 0 80-BF, 1 A0-BF (after E0), 2 80-9F (after ED),
    /// 3 90-BF (after F0), 4 80-8F (after F4).
    private static func accepts(_ byte: UInt8, _ range: UInt8) -> Bool {
        switch range {
        case 1: return byte >= 0xA0 && byte <= 0xBF
        case 2: return byte >= 0x80 && byte <= 0x9F
        case 3: return byte >= 0x90 && byte <= 0xBF
        case 4: return byte >= 0x80 && byte <= 0x8F
        default: return byte >= 0x80 && byte <= 0xBF
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Whether `bytes`, read from a boundary, are string content that ends on a boundary: no quote, backslash or
    /// control character, complete valid UTF-8. Such a token never changes a string's state.
    static func isPlainContent(_ bytes: some Sequence<UInt8>) -> Bool {
        var lexer = StringLexer()
        for byte in bytes {
            guard byte != UInt8(ascii: "\\"), lexer.advance(byte) == .more else { return false }
        }
        return lexer.isAtBoundary
    }
}
