import Glibc

/// Runs a program as a child and streams its standard output line by line (`plugin check` re-runs itself this
/// way, so that a plugin that crashes or hangs takes down only the child).
public struct ChildProcess {
    /// How the child ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    /// Spawns `arguments` (argv[0] included) and calls `onLine` for each line of its stdout.
    public static func run(_ arguments: [String], timeoutSeconds: Int, mergeStandardError: Bool = false,
                           onLine: (String) -> Void) -> Ending {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return .exited(127) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        if mergeStandardError { posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2) }
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            return .exited(127)
        }
        let timedOut = stream(fd: pipeEnds[0], deadline: MonotonicSeconds.now() + Double(timeoutSeconds), onLine: onLine)
        close(pipeEnds[0])
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { return .timedOut }
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }

    /// Reads lines until end of file; returns true if the deadline passed first.
    private static func stream(fd: Int32, deadline: Double, onLine: (String) -> Void) -> Bool {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline - MonotonicSeconds.now()
            if remaining <= 0 { return true }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 1000)))
            if ready < 0 && errno != EINTR { return false }
            if ready <= 0 { continue }
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            pending += chunk[..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                onLine(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        return false
    }
}

/// Monotonic seconds, for deadlines.
enum MonotonicSeconds {
    static func now() -> Double { MonotonicClock.seconds() }
}
