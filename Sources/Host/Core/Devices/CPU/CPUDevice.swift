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
        CPUStream(device: self, label: label, priority: priority)
    }
}

/// An ordered queue of work on the CPU (px_stream). Work enqueued by a plugin during a step runs in order on the
/// thread that runs the step, fanning out to the worker pool through parallel_for; so completion of a step's
/// work coincides with the step call returning.
public final class CPUStream: Sendable {
    public let device: CPUDevice
    public let label: String
    public let priority: Int32

    init(device: CPUDevice, label: String, priority: Int32) {
        self.device = device
        self.label = label
        self.priority = priority
    }
}

/// A marker recorded on a stream (px_event). On the CPU a record completes at once; it keeps the time.
final class HostEvent: Sendable {
    let scope: HostScope
    private let recorded = Mutex<UInt64?>(nil)

    init(scope: HostScope) { self.scope = scope }

    /// Records the current monotonic time.
    func record() { recorded.withLock { $0 = MonotonicClock.nanoseconds() } }

    /// The recorded time, or nil if the event was never recorded.
    var nanoseconds: UInt64? { recorded.withLock { $0 } }
}

/// CLOCK_MONOTONIC in nanoseconds.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
