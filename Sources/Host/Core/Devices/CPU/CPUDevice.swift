import Glibc
import Synchronization

/// The CPU device: the host's worker pool and the ordered streams that run on it. Always present.
public final class CPUDevice: Sendable {
    /// The worker threads every CPU kernel runs on.
    public let pool: WorkerPool

    /// Creates the device with `threads` workers (default: one per online core).
    public init(threads: Int? = nil) {
        pool = WorkerPool(threads: threads)
    }

    /// A new stream on this device.
    public func makeStream(label: String, priority: Int32 = 0) -> CPUStream {
        CPUStream(label: label, priority: priority, pool: pool)
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Seconds on the monotonic clock.
    public static func seconds() -> Double { Double(nanoseconds()) / 1e9 }
}
