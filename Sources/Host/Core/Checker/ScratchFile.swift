import Glibc

/// A temporary file the checker feeds to a plugin, removed when the value goes away.
final class ScratchFile {
    let path: String

    private init(path: String) { self.path = path }

    deinit { unlink(path) }

    /// 64 KiB of deterministic pseudo-random bytes: not a model in any format.
    static func garbage() -> ScratchFile {
        var template = Array("/tmp/plexus-check-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: 65_536)
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        if fd >= 0 {
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        return ScratchFile(path: path)
    }
}
