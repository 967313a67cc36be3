/// Whitespace between two JSON tokens, bounded so a model cannot loop on it: at most `maxBytes` bytes of space,
/// tab and newline with at most one newline (enough for pretty-printing with indentation), and at most one byte
/// before the top-level value.
struct WhitespaceRun: Equatable, Sendable {
    /// Bytes of whitespace one gap may have.
    static let maxBytes: UInt8 = 20

    private var bytes: UInt8 = 0
    private var newlines: UInt8 = 0

    /// An empty gap.
    init() {}

    /// The gap before the top-level value: one byte at most.
    static var leading: WhitespaceRun {
        var run = WhitespaceRun()
        run.bytes = maxBytes - 1
        return run
    }

    /// Whether `byte` is JSON whitespace this policy can take (carriage returns are not taken).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
    }

    /// Adds whitespace `byte` to the gap; false when the gap would be too long.
    mutating func add(_ byte: UInt8) -> Bool {
        guard bytes < Self.maxBytes else { return false }
        if byte == UInt8(ascii: "\n") {
            guard newlines == 0 else { return false }
            newlines += 1
        }
        bytes += 1
        return true
    }
}
