import Synchronization
import Testing
@testable import HostCore

/// CPU streams: operations run in order on the lane, waits and synchronize see them complete, lanes interleave.
@Suite struct CPUStreamTests {
    private let device = CPUDevice(threads: 2)

    @Test func runsOperationsInSubmissionOrder() {
        let stream = device.makeStream(label: "order")
        let log = Log()
        for index in 0..<200 { stream.enqueue { log.append(index) } }
        stream.synchronize()
        #expect(log.values == Array(0..<200))
    }

    @Test func ticketsCompleteInOrder() {
        let stream = device.makeStream(label: "tickets")
        let gate = Gate()
        let first = stream.enqueue { gate.wait() }
        let second = stream.enqueue {}
        #expect(!stream.isComplete(first) && !stream.isComplete(second))
        gate.open()
        stream.wait(for: second)
        #expect(stream.isComplete(first) && stream.isComplete(second))
    }

    @Test func synchronizeFromInsideAnOperationReturnsAtOnce() {
        let stream = device.makeStream(label: "inside")
        let done = Log()
        stream.enqueue { [stream] in
            stream.synchronize()
            done.append(1)
        }
        stream.synchronize()
        #expect(done.values == [1])
    }

    @Test func twoLanesRunConcurrently() {
        let a = device.makeStream(label: "a"), b = device.makeStream(label: "b")
        let gate = Gate()
        a.enqueue { gate.wait() }        // blocks lane a until lane b opens the gate
        let opened = b.enqueue { gate.open() }
        b.wait(for: opened)
        a.synchronize()
    }

    @Test func aDroppedStreamFinishesItsWork() {
        let log = Log()
        do {
            let stream = device.makeStream(label: "dropped")
            for index in 0..<50 { stream.enqueue { log.append(index) } }
        }
        #expect(log.values == Array(0..<50))
    }
}

/// A thread-safe list of integers.
final class Log: Sendable {
    private let storage = Mutex<[Int]>([])
    func append(_ value: Int) { storage.withLock { $0.append(value) } }
    var values: [Int] { storage.withLock { $0 } }
}

/// A one-shot gate a lane can block on.
final class Gate: Sendable {
    private let lock = ConditionLock()
    private let state = Mutex(false)
    func open() { lock.broadcast { state.withLock { $0 = true } } }
    func wait() { lock.wait { state.withLock { $0 } } }
}
