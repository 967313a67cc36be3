import Synchronization
import Testing
@testable import HostCore

/// The CPU worker pool: every index once, worker ids in range, nesting inline, many jobs back to back.
@Suite struct WorkerPoolTests {
    @Test func runsEveryIndexExactlyOnce() {
        let pool = WorkerPool(threads: 4)
        for n in [1, 2, 3, 7, 64, 1000, 100_000] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            pool.parallelFor(n) { index, _ in hits[index] += 1 }
            #expect(hits.allSatisfy { $0 == 1 }, "n = \(n)")
        }
    }

    @Test func workerIndicesStayInRange() {
        let pool = WorkerPool(threads: 3)
        let seen = Mutex<Set<Int>>([])
        pool.parallelFor(10_000) { _, worker in seen.withLock { _ = $0.insert(worker) } }
        #expect(seen.withLock { $0.allSatisfy { (0..<3).contains($0) } })
    }

    @Test func nestedCallsRunInline() {
        let pool = WorkerPool(threads: 4)
        let total = Atomic<Int>(0)
        pool.parallelFor(8) { _, outer in
            pool.parallelFor(8) { _, inner in
                #expect(inner == outer)
                total.add(1, ordering: .relaxed)
            }
        }
        #expect(total.load(ordering: .relaxed) == 64)
    }

    @Test func manyJobsBackToBackFromSeveralCallers() async {
        let pool = WorkerPool(threads: 4)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<500 { pool.parallelFor(5) { _, _ in total.value.add(1, ordering: .relaxed) } }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 4 * 500 * 5)
    }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
