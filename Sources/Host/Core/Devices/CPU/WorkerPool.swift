import Glibc
import HostShim
import Synchronization

/// The host's CPU worker threads: the one place CPU kernels of every plugin run.
///
/// `parallelFor` hands out task indices to the calling thread (worker 0) and the pool's threads (workers
/// 1..<count). Claiming a task is one compare-and-swap on a word that packs the job's generation with its next
/// index, so a thread that wakes late can never run a task of a job that already ended. Nothing is allocated per
/// call or per task; idle threads spin briefly, then sleep on a condition variable.
public final class WorkerPool: @unchecked Sendable {
    /// Threads that run tasks, the calling thread included.
    public let count: Int

    // SAFETY: every field below is either immutable after init, atomic, or guarded by `sleepLock`.
    private let claim = Atomic<UInt64>(closedIndex) // (generation << 32) | next task index; closed between jobs
    private let finished = Atomic<Int>(0)         // tasks of the current generation completed
    private let taskCount = Atomic<UInt32>(0)     // tasks of the current generation
    private let job = Atomic<UInt>(0)             // address of the current `JobFrame`
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let callLock = Mutex<Void>(())        // one parallelFor at a time per pool
    private let sleepLock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [pthread_t] = []
    private var generation: UInt64 = 0            // written only by the caller holding callLock

    /// A job as the workers see it: the body. Dereferenced only after a successful claim.
    private struct JobFrame {
        let body: (Int, Int) -> Void
    }

    /// Index part of the claim word while no job is open: no claim can succeed.
    private static let closedIndex: UInt64 = 0xFFFF_FFFF

    /// Spin iterations before an idle worker sleeps (~tens of microseconds).
    private static let spinLimit = 20_000

    /// Creates a pool of `threads` workers (the caller counts as one). Default: one per online core.
    public init(threads: Int? = nil) {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        count = max(1, threads ?? max(1, online))
        sleepLock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(sleepLock, nil)
        pthread_cond_init(wake, nil)
        for index in 1..<count { self.threads.append(spawn(worker: index)) }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(sleepLock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(sleepLock)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(sleepLock)
        wake.deallocate()
        sleepLock.deallocate()
    }

    /// Runs `body(index, worker)` for every index in 0..<n and returns when all have finished. A call from inside
    /// a task runs inline on that worker.
    public func parallelFor(_ n: Int, _ body: (Int, Int) -> Void) {
        guard n > 0 else { return }
        let current = Int(px_shim_worker_index())
        if current >= 0 || count == 1 || n == 1 {
            let worker = max(current, 0)
            for index in 0..<n { body(index, worker) }
            return
        }
        precondition(n <= Int(UInt32.max), "parallelFor task count exceeds 2^32")
        callLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                var frame = JobFrame(body: escapable)
                withUnsafeMutablePointer(to: &frame) { framePointer in
                    publish(framePointer, tasks: n)
                    px_shim_set_worker_index(0)
                    runTasks(worker: 0)
                    px_shim_set_worker_index(-1)
                    waitForCompletion(tasks: n)
                    close()
                }
            }
        }
    }

    // MARK: - Job publication and completion

    private func publish(_ frame: UnsafeMutablePointer<JobFrame>, tasks: Int) {
        generation &+= 1
        finished.store(0, ordering: .relaxed)
        taskCount.store(UInt32(tasks), ordering: .relaxed)
        job.store(UInt(bitPattern: frame), ordering: .releasing)
        claim.store((generation & 0xFFFF_FFFF) << 32, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(sleepLock)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(sleepLock)
        }
    }

    /// Closes the finished job before anything of the next one is written, so that a worker holding a stale
    /// claim word can never succeed against the next job's count or frame.
    private func close() {
        claim.store(((generation & 0xFFFF_FFFF) << 32) | Self.closedIndex, ordering: .sequentiallyConsistent)
        job.store(0, ordering: .releasing)
    }

    private func waitForCompletion(tasks: Int) {
        var spins = 0
        while finished.load(ordering: .acquiring) < tasks {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
    }

    /// Claims and runs tasks of the current generation until none are left. Returns whether it ran any.
    /// A claim takes a run of consecutive indices (about an eighth of a fair share), so neighbouring tasks, which
    /// plugins give neighbouring rows, stay on one thread and one atomic operation covers several tasks.
    @discardableResult
    private func runTasks(worker: Int) -> Bool {
        var ran = false
        while true {
            let word = claim.load(ordering: .acquiring)
            let frameBits = job.load(ordering: .acquiring)
            let total = taskCount.load(ordering: .acquiring)
            let first = UInt32(truncatingIfNeeded: word)
            guard frameBits != 0, first < total else { return ran }
            let run = min(max(1, total / UInt32(count * 8)), total - first)
            let (exchanged, _) = claim.compareExchange(
                expected: word, desired: word + UInt64(run), ordering: .acquiringAndReleasing)
            guard exchanged else { continue }
            // SAFETY: the claim succeeded with this generation's word, so tasks of it are unfinished and the
            // caller (who owns the frame on its stack) is still waiting; `job` and `taskCount` are published
            // before the claim word, and a changed word would have failed the exchange.
            guard let frame = UnsafeMutablePointer<JobFrame>(bitPattern: job.load(ordering: .acquiring)) else {
                preconditionFailure("claimed tasks of a job that has no frame")
            }
            for index in first..<(first + run) { frame.pointee.body(Int(index), worker) }
            finished.add(Int(run), ordering: .releasing)
            ran = true
        }
    }

    // MARK: - Worker threads

    private func spawn(worker index: Int) -> pthread_t {
        let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            // SAFETY: `raw` is the retained WorkerContext passed below; released once here.
            let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
            context.pool.workerLoop(index: context.index)
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed: \(status)")
        return thread
    }

    private func workerLoop(index: Int) {
        px_shim_set_worker_index(Int32(index))
        var idleSpins = 0
        while !stopping.load(ordering: .relaxed) {
            if runTasks(worker: index) { idleSpins = 0; continue }
            idleSpins += 1
            if idleSpins < Self.spinLimit { continue }
            sleepUntilWork()
            idleSpins = 0
        }
    }

    private func sleepUntilWork() {
        pthread_mutex_lock(sleepLock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while !stopping.load(ordering: .relaxed) && !hasClaimableWork() {
            pthread_cond_wait(wake, sleepLock)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(sleepLock)
    }

    private func hasClaimableWork() -> Bool {
        let index = UInt32(truncatingIfNeeded: claim.load(ordering: .sequentiallyConsistent))
        return job.load(ordering: .acquiring) != 0 && index < taskCount.load(ordering: .acquiring)
    }
}

/// What a worker thread needs: its pool (unowned: the pool joins its threads before it goes away) and index.
private final class WorkerContext: @unchecked Sendable {
    unowned(unsafe) let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
}
