import Glibc
import HostShim

/// An ordered queue of work on the CPU (the CPU's px_stream): operations run one after another, in submission
/// order, on the stream's own lane thread; CPU kernels inside an operation fan out to the shared worker pool.
/// Several streams interleave on the pool at parallel_for granularity, the way CUDA streams share SMs.
///
/// A plugin's enqueued work (mem_write, parallel_for, ...) runs at once on the thread that calls the host, which
/// is the lane thread while a step runs there, so completion of a step's work coincides with the step returning.
public final class CPUStream: DeviceStream, @unchecked Sendable {
    private let queue = LaneQueue()
    // SAFETY: `lane` is written once, under the queue's lock, before the first operation is appended.
    private var lane = pthread_t()

    override init(label: String, priority: Int32, pool: WorkerPool) {
        super.init(label: label, priority: priority, pool: pool)
    }

    deinit {
        guard queue.stop() else { return }
        // The last reference can drop on the lane itself (an operation that held the stream): then the lane is
        // detached; it ends on its own once the queue is drained.
        if pthread_equal(pthread_self(), lane) != 0 { pthread_detach(lane) } else { pthread_join(lane, nil) }
    }

    /// Appends an operation; returns its ticket (operations complete in ticket order).
    @discardableResult
    public func enqueue(_ operation: @escaping @Sendable () -> Void) -> UInt64 {
        queue.append(operation) { startLane() }
    }

    /// Whether every operation up to `ticket` has completed.
    public func isComplete(_ ticket: UInt64) -> Bool { queue.completed >= ticket }

    override func synchronizeAll() { synchronize() }

    /// Blocks until every operation enqueued before the call has completed. On the lane thread itself (inside an
    /// operation) it returns at once: by order, everything before the running operation has completed.
    public func synchronize() {
        guard !isLaneThread else { return }
        queue.waitForCompletion(of: queue.submitted)
    }

    /// Blocks until the operation with `ticket` has completed.
    public func wait(for ticket: UInt64) {
        guard !isLaneThread else { return }
        queue.waitForCompletion(of: ticket)
    }

    override func enqueueCopy(to target: MemoryAddress, from source: MemoryAddress, bytes: UInt64) throws(ServiceFailure) {
        guard case .host(let to) = target, case .host(let from) = source else {
            throw ServiceFailure(PX_ERR_UNSUPPORTED, "stream '\(label)' is a CPU stream: it copies host memory only")
        }
        let (t, f) = (SendablePointer(pointer: to), SendablePointer(pointer: from))
        enqueue { t.pointer.copyMemory(from: UnsafeRawPointer(f.pointer), byteCount: Int(bytes)) }
    }

    override func marker() throws(ServiceFailure) -> StreamMarker {
        let ticket = queue.submitted
        return StreamMarker { [weak self] in self?.wait(for: ticket) }
    }

    /// Whether the caller runs on this stream's lane thread.
    var isLaneThread: Bool { queue.hasLane && pthread_equal(pthread_self(), lane) != 0 }

    private func startLane() {
        let context = Unmanaged.passRetained(queue).toOpaque()
        let status = pthread_create(&lane, nil, { raw in
            // SAFETY: `raw` is the queue retained above, released once here when the lane ends.
            let queue = Unmanaged<LaneQueue>.fromOpaque(raw!).takeRetainedValue()
            px_shim_set_worker_index(-1)
            queue.run()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed for stream \(label): \(status)")
    }
}

/// The state a lane thread shares with its stream: pending operations and completion counters. The lane holds the
/// queue, not the stream, so dropping the stream stops the lane.
private final class LaneQueue: @unchecked Sendable {
    // SAFETY: every field is guarded by `lock`.
    private let lock = ConditionLock()
    private var pending: [@Sendable () -> Void] = []
    private var submittedCount: UInt64 = 0
    private var completedCount: UInt64 = 0
    private var started = false
    private var stopping = false

    var submitted: UInt64 { lock.locked { submittedCount } }
    var completed: UInt64 { lock.locked { completedCount } }
    var hasLane: Bool { lock.locked { started } }

    /// Appends an operation, starting the lane first if there is none; returns the operation's ticket.
    func append(_ operation: @escaping @Sendable () -> Void, startLane: () -> Void) -> UInt64 {
        var ticket: UInt64 = 0
        lock.broadcast {
            if !started {
                started = true
                startLane()
            }
            pending.append(operation)
            submittedCount += 1
            ticket = submittedCount
        }
        return ticket
    }

    func waitForCompletion(of ticket: UInt64) { lock.wait(until: { completedCount >= ticket }, spins: Self.spins) }

    /// Polls before sleeping, on both sides of the queue (see ConditionLock.wait).
    static let spins = 200

    /// Asks the lane to end after the pending operations; returns whether a lane exists.
    func stop() -> Bool {
        var hadLane = false
        lock.broadcast {
            stopping = true
            hadLane = started
        }
        return hadLane
    }

    /// The lane loop: take the next operation in order, run it, count it complete.
    func run() {
        while true {
            var next: (@Sendable () -> Void)?
            lock.wait(until: { stopping || !pending.isEmpty }, spins: Self.spins)
            lock.locked { if !pending.isEmpty { next = pending.removeFirst() } }
            guard let operation = next else { return }
            operation()
            next = nil
            lock.broadcast { completedCount += 1 }
        }
    }
}
