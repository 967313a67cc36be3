/// UTF-8 as llama.cpp's unicode.cpp reads and writes it, so that odd bytes are treated the same way: a byte that
/// does not start a well-formed sequence becomes U+FFFD and decoding goes on at the next byte.
enum LlamaUTF8 {
    /// The code points of `bytes` (unicode_cpts_from_utf8).
    static func codePoints<C: Collection>(_ bytes: C) -> [UInt32] where C.Element == UInt8, C.Index == Int {
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let (value, length) = decode(bytes, at: index)
            result.append(value)
            index += length
        }
        return result
    }

    /// The code point at `index` and its length in bytes ((U+FFFD, 1) for an ill-formed sequence).
    static func decode<C: Collection>(_ bytes: C, at index: Int) -> (UInt32, Int) where C.Element == UInt8, C.Index == Int {
        let lead = bytes[index]
        if lead & 0x80 == 0 { return (UInt32(lead), 1) }
        let length: Int
        switch lead {
        case _ where lead & 0x40 == 0: return (0xFFFD, 1)
        case _ where lead & 0x20 == 0: length = 2
        case _ where lead & 0x10 == 0: length = 3
        case _ where lead & 0x08 == 0: length = 4
        default: return (0xFFFD, 1)
        }
        guard index + length - 1 < bytes.endIndex else { return (0xFFFD, 1) }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return (value, length)
    }

    /// The UTF-8 bytes of `value` (unicode_cpt_to_utf8, for values up to 0x10FFFF).
    static func encode(_ value: UInt32) -> [UInt8] {
        switch value {
        case 0..<0x80: return [UInt8(value)]
        case 0x80..<0x800: return [UInt8(0xC0 | value >> 6), UInt8(0x80 | value & 0x3F)]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | value >> 12), UInt8(0x80 | value >> 6 & 0x3F), UInt8(0x80 | value & 0x3F)]
        default:
            return [UInt8(0xF0 | value >> 18 & 0x07), UInt8(0x80 | value >> 12 & 0x3F),
                    UInt8(0x80 | value >> 6 & 0x3F), UInt8(0x80 | value & 0x3F)]
        }
    }
}
