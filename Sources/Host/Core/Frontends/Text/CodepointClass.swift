/// The Unicode classes the pre-tokenizers split on, as llama.cpp's unicode tables define them: general category
/// groups (\p{L}, \p{N}, \p{P}, ...) from the Unicode data, and `\s` as llama.cpp's explicit whitespace set.
///
/// llama.cpp's tables (unicode-data.cpp) were generated from Unicode 15.1, the stdlib's data is newer: a scalar
/// introduced after 15.1 counts as unassigned here, as it does there. With that cap the classes agree with
/// llama.cpp's for all 0x110000 code points (checked against the tables of the llama.cpp the golden data used).
struct CodepointClass: OptionSet, Sendable {
    let rawValue: UInt16

    /// Set for every code point of the text (llama.cpp's flags are never all zero inside the text): lets a
    /// scanner tell "past the end of the piece" (no flags) from "a code point of no class".
    static let present = CodepointClass(rawValue: 1 << 0)
    static let number = CodepointClass(rawValue: 1 << 1)
    static let letter = CodepointClass(rawValue: 1 << 2)
    static let separator = CodepointClass(rawValue: 1 << 3)
    static let mark = CodepointClass(rawValue: 1 << 4)
    static let punctuation = CodepointClass(rawValue: 1 << 5)
    static let symbol = CodepointClass(rawValue: 1 << 6)
    static let control = CodepointClass(rawValue: 1 << 7)
    static let whitespace = CodepointClass(rawValue: 1 << 8)

    /// The class of code point `value`.
    static func of(_ value: UInt32) -> CodepointClass {
        if value < 0x10000 { return CodepointClass(rawValue: basicPlane[Int(value)]) }
        return compute(value)
    }

    /// The Basic Multilingual Plane, computed once (65,536 look-ups, a few milliseconds).
    private static let basicPlane: [UInt16] = (0..<0x10000).map { compute(UInt32($0)).rawValue }

    private static func compute(_ value: UInt32) -> CodepointClass {
        var result: CodepointClass = .present
        if whitespace(value) { result.insert(.whitespace) }
        guard let scalar = Unicode.Scalar(value) else { return result.union(.control) }  // surrogates: Cs
        if let age = scalar.properties.age, age > referenceVersion { return result }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert(.mark)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result.insert(.symbol)
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            result.insert(.separator)
        case .control, .format, .surrogate, .privateUse:
            result.insert(.control)
        case .unassigned:
            break
        @unknown default:
            break
        }
        return result
    }

    /// The Unicode version of llama.cpp's tables.
    private static let referenceVersion: Unicode.Version = (major: 15, minor: 1)

    /// llama.cpp's `\s`: the White_Space code points less U+180E (unicode-data.cpp's unicode_set_whitespace).
    private static func whitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
