import Glibc

/// A pthread mutex with one condition variable: for threads that must sleep until a state changes (stream lanes,
/// events). Swift's `Mutex` has no condition variable.
final class ConditionLock: @unchecked Sendable {
    // SAFETY: both pointers are allocated once, initialized in init and destroyed in deinit; pthread objects must
    // not move, so they live on the heap.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    private let condition: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (holding the lock around each check) until `ready()` is true. With `spins` > 0 it first polls that
    /// many times without sleeping: waking a sleeping thread costs tens of microseconds, a short poll far less.
    func wait(until ready: () -> Bool, spins: Int = 0) {
        for _ in 0..<spins {
            pthread_mutex_lock(mutex)
            let done = ready()
            pthread_mutex_unlock(mutex)
            if done { return }
            sched_yield()
        }
        pthread_mutex_lock(mutex)
        while !ready() { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Changes state under the lock and wakes every waiter.
    func broadcast(after change: () -> Void) {
        pthread_mutex_lock(mutex)
        change()
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
