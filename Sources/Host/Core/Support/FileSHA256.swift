import CUDAShim
import Glibc

/// The SHA-256 of a file, read in 4 MiB chunks (model files are hundreds of MiB; they are never read whole).
public enum FileSHA256 {
    /// The lowercase hex digest of the file at `path`, or nil when it cannot be read to its end.
    public static func hex(path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var state = px_sha256_state()
        px_sha256_begin(&state)
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            chunk.withUnsafeBytes { px_sha256_update(&state, $0.baseAddress, count) }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        px_sha256_end(&state, &digest)
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
