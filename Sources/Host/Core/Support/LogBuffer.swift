import Synchronization

/// Keeps log lines in memory (the checker shows them on failure; tests read them).
public final class LogBuffer: Sendable {
    private let lines = Mutex<[LogLine]>([])

    public init() {}

    public func append(_ line: LogLine) { lines.withLock { $0.append(line) } }

    public var all: [LogLine] { lines.withLock { $0 } }
}
