import Testing
@testable import HostCore

@Suite struct WorkerPoolTests {
    @Test func runsEveryIndexExactlyOnce() {
        let pool = WorkerPool(threads: 4)
        for n in [1, 2, 3, 7, 64, 1000] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            pool.parallelFor(n) { index, _ in hits[index] += 1 }
            #expect(hits.allSatisfy { $0 == 1 }, "n = \(n)")
        }
    }
}
