/// A JSON number, one byte at a time: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, at most
/// `maxLength` bytes so a model cannot emit digits forever. A number ends at the first byte that cannot extend
/// it; the caller then hands that byte to whatever follows the number.
struct NumberLexer: Equatable, Sendable {
    /// What a byte did to the number.
    enum Step { case more, end, reject }

    /// Bytes a number may have.
    static let maxLength: UInt8 = 32

    private enum Phase: UInt8 { case start, minus, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits }

    private var phase = Phase.start
    private var length: UInt8 = 0
    private let integerOnly: Bool

    init(integerOnly: Bool) { self.integerOnly = integerOnly }

    /// Whether the bytes so far are a complete number.
    var isComplete: Bool { phase == .zero || phase == .integer || phase == .fraction || phase == .exponentDigits }

    mutating func advance(_ byte: UInt8) -> Step {
        guard let next = next(byte), length < Self.maxLength else { return isComplete ? .end : .reject }
        phase = next
        length += 1
        return .more
    }

    private func next(_ byte: UInt8) -> Phase? {
        let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        switch phase {
        case .start:
            if byte == UInt8(ascii: "-") { return .minus }
            fallthrough
        case .minus:
            return byte == UInt8(ascii: "0") ? .zero : digit ? .integer : nil
        case .zero, .integer:
            if digit && phase == .integer { return .integer }
            if integerOnly { return nil }
            if byte == UInt8(ascii: ".") { return .dot }
            return byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") ? .exponent : nil
        case .dot, .fraction:
            if digit { return .fraction }
            return phase == .fraction && (byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")) ? .exponent : nil
        case .exponent:
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { return .exponentSign }
            return digit ? .exponentDigits : nil
        case .exponentSign, .exponentDigits:
            return digit ? .exponentDigits : nil
        }
    }
}
