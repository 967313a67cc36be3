import HostCore

/// 8-bit RGB images as PNG files (RFC 2083), without a compressor: the image data goes into zlib "stored" deflate
/// blocks, which every PNG decoder reads. The images of the models served so far are a few KiB; a compressing
/// encoder (system zlib) is the step to take when large images come.
enum PNGEncoder {
    static func encode(_ image: GeneratedImage) -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, color type 2 (RGB), deflate, filter method 0, no interlace
        chunk("IHDR", header, into: &png)
        chunk("IDAT", zlibStored(scanlines(image)), into: &png)
        chunk("IEND", [], into: &png)
        return png
    }

    /// Each row behind filter type 0 (none).
    private static func scanlines(_ image: GeneratedImage) -> [UInt8] {
        let row = image.width * 3
        var raw: [UInt8] = []
        raw.reserveCapacity((row + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)
            raw += image.rgb[(y * row)..<((y + 1) * row)]
        }
        return raw
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 3.2.4) of at most 65,535 bytes each.
    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let end = min(start + 65_535, data.count)
            let length = UInt16(end - start)
            out.append(end == data.count ? 1 : 0)  // BFINAL, BTYPE 00
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            out += data[start..<end]
            start = end
        } while start < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8], into png: inout [UInt8]) {
        png.appendBigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        png += typed
        png.appendBigEndian(crc32(typed))
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

private extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
}
