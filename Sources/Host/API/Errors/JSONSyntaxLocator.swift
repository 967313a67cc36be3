/// Finds where a JSON text first goes wrong (line, column, what was expected), because the JSON decoder only
/// says that it is invalid. A small recursive-descent checker of RFC 8259 syntax; values are not built.
struct JSONSyntaxLocator {
    /// The first syntax error, or nil when the text is valid JSON.
    static func firstError(in bytes: [UInt8]) -> String? {
        var locator = JSONSyntaxLocator(bytes: bytes)
        do throws(Failure) {
            locator.skipSpace()
            try locator.value(depth: 0)
            locator.skipSpace()
            guard locator.index == bytes.count else { throw locator.failure("end of input") }
            return nil
        } catch {
            return error.message
        }
    }

    private struct Failure: Error {
        var message: String
    }

    private let bytes: [UInt8]
    private var index = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ expected: String) -> Failure {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        let found = current.map { "'\(String(decoding: [$0], as: UTF8.self))'" } ?? "the end of the body"
        return Failure(message: "expected \(expected) at line \(line), column \(column), found \(found)")
    }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ name: String) throws(Failure) {
        skipSpace()
        guard current == byte else { throw failure(name) }
        index += 1
    }

    private mutating func value(depth: Int) throws(Failure) {
        guard depth < 512 else { throw failure("less nesting") }
        skipSpace()
        switch current ?? 0 {
        case UInt8(ascii: "{"): try container(close: UInt8(ascii: "}"), depth: depth, keyed: true)
        case UInt8(ascii: "["): try container(close: UInt8(ascii: "]"), depth: depth, keyed: false)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): number()
        default: throw failure("a value")
        }
    }

    private mutating func container(close: UInt8, depth: Int, keyed: Bool) throws(Failure) {
        index += 1
        skipSpace()
        if current == close {
            index += 1
            return
        }
        while true {
            if keyed {
                skipSpace()
                guard current == UInt8(ascii: "\"") else { throw failure("a string key") }
                try string()
                try expect(UInt8(ascii: ":"), "':'")
            }
            try value(depth: depth + 1)
            skipSpace()
            if current == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(close, keyed ? "',' or '}'" : "',' or ']'")
            return
        }
    }

    private mutating func string() throws(Failure) {
        index += 1
        while let byte = current {
            index += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") { index += 1 }
            if byte < 0x20 {
                index -= 1
                throw failure("an escaped control character in a string")
            }
        }
        throw failure("the closing '\"' of a string")
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for byte in word.utf8 {
            guard current == byte else { throw failure("'\(word)'") }
            index += 1
        }
    }

    private mutating func number() {
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "+-.eE".utf8.contains(byte) {
            index += 1
        }
    }
}
