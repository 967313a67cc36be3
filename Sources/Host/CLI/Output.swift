import Glibc
import HostCore

/// Line output that is flushed at once (a parent process or a pipe sees every line even if we crash next).
enum Output {
    static func line(_ text: String) { write(to: 1, text) }

    static func error(_ text: String) { write(to: 2, text) }

    /// Text on stderr without a newline (a progress line redrawn in place).
    static func errorText(_ text: String) { write(to: 2, text, newline: false) }

    private static func write(to fd: Int32, _ text: String, newline: Bool = true) {
        var bytes = Array((newline ? text + "\n" : text).utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    static func error(_ line: LogLine) {
        let level = ["error", "warning", "info", "debug"][Int(min(line.level, 3))]
        error("[\(level)] \(line.source): \(line.message)")
    }
}

