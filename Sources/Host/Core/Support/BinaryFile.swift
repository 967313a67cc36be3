import Glibc

/// Writes raw little-endian values to a file (debug dumps, benchmark artifacts).
public enum BinaryFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func write<T>(_ values: [T], to path: String) throws(WriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "cannot write '\(path)'") }
        defer { close(fd) }
        let written = values.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == values.count * MemoryLayout<T>.stride else { throw WriteError(description: "short write to '\(path)'") }
    }
}
