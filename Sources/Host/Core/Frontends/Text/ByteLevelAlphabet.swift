/// GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable code point, so a byte-level
/// BPE vocabulary can spell any byte string. Printable Latin-1 bytes stand for themselves; the others (control
/// bytes, space, 0x7F-0xA0, 0xAD) take U+0100 upward in byte order (`bytes_to_unicode` in GPT-2's encoder.py).
enum ByteLevelAlphabet {
    /// The UTF-8 of the code point standing for each byte.
    static let encoded: [[UInt8]] = codePoints.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// The code point standing for each byte.
    static let codePoints: [UInt32] = {
        var result = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                result[byte] = UInt32(byte)
            } else {
                result[byte] = next
                next += 1
            }
        }
        return result
    }()

    /// The byte a code point stands for, or nil if it is not in the alphabet.
    static func byte(for codePoint: UInt32) -> UInt8? {
        guard codePoint < UInt32(decoding.count) else { return nil }
        let byte = decoding[Int(codePoint)]
        return byte < 0 ? nil : UInt8(byte)
    }

    private static let decoding: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, codePoint) in codePoints.enumerated() { table[Int(codePoint)] = Int16(byte) }
        return table
    }()
}
