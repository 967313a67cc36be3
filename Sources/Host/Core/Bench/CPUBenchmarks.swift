import Dispatch
import Glibc
import HostShim
import PluginABI

/// CPU device benchmarks: the host's costs measured next to a peer in the same process.
enum CPUBenchmarks {
    /// parallel_for overhead per call: through the px_host table (what plugins pay), the pool directly, and
    /// Dispatch's concurrentPerform (the toolchain's own pool) as the peer; one empty task per worker.
    static func parallelFor(_ device: CPUDevice, iterations: Int = 20_000) -> [BenchResult] {
        let workers = device.pool.count
        let stream = device.makeStream(label: "bench")
        let services = HostServices(pluginID: "bench", memory: HostMemory(), cpu: device) { _ in }
        let handle = services.handle(for: stream)
        let host = services.host
        let parallelFor = host.pointee.parallel_for!
        let empty: px_task_fn = { _, _, _ in }
        let table = measure(iterations) { _ = parallelFor(host, handle, UInt32(workers), empty, nil) }
        let pool = measure(iterations) { device.pool.parallelFor(workers) { _, _ in } }
        let dispatch = measure(iterations) { DispatchQueue.concurrentPerform(iterations: workers) { _ in } }
        return [
            BenchResult(name: "parallel_for via px_host (\(workers) tasks)", value: table * 1e6, unit: "us/call",
                        peerName: "Dispatch.concurrentPerform", peerValue: dispatch * 1e6),
            BenchResult(name: "WorkerPool.parallelFor (\(workers) tasks)", value: pool * 1e6, unit: "us/call",
                        peerName: "Dispatch.concurrentPerform", peerValue: dispatch * 1e6),
        ]
    }

    /// A stream lane's round trip: enqueue an empty operation and wait for it.
    static func laneRoundTrip(_ device: CPUDevice, iterations: Int = 20_000) -> BenchResult {
        let stream = device.makeStream(label: "bench lane")
        let seconds = measure(iterations) { stream.wait(for: stream.enqueue {}) }
        return BenchResult(name: "CPU stream enqueue + wait", value: seconds * 1e6, unit: "us/op")
    }

    /// Evicting and restoring `megabytes` of weights between host tiers over two lanes, against one memcpy.
    static func evictRestore(_ device: CPUDevice, megabytes: Int = 256) -> [BenchResult] {
        let memory = HostMemory()
        let scope = HostScope(name: "bench weights")
        let layer = 8 << 20
        var buffers: [HostBuffer] = []
        for index in 0..<(megabytes << 20) / layer {
            guard let buffer = try? memory.allocate(scope: scope, label: "layer \(index)", memory: UInt32(PX_MEMORY_DEVICE),
                                                    residency: UInt32(PX_RESIDENCY_WEIGHTS), bytes: UInt64(layer), alignment: 4096) else { break }
            memset(buffer.hostAddress!, Int32(index & 0xFF), layer)
            buffers.append(buffer)
        }
        let lanes = [device.makeStream(label: "copy 0"), device.makeStream(label: "copy 1")]
        let mover = TierMover(memory: memory, streams: lanes)
        guard let coldEvict = try? mover.evict(buffers), let coldRestore = try? mover.restore(buffers),
              let evicted = try? mover.evict(buffers), let restored = try? mover.restore(buffers) else {
            var failure = BenchResult(name: "evict/restore", value: 0, unit: "GB/s", note: "a move failed")
            failure.failed = true
            return [failure]
        }
        let bytes = buffers.count * layer
        let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        let target = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { source.deallocate(); target.deallocate() }
        memset(source, 1, bytes)
        memset(target, 0, bytes)
        let copy = fastest(5) {
            memcpy(target, source, bytes)
            observe(target, bytes)
        }
        let peer = Double(bytes) / copy / 1e9
        return [
            BenchResult(name: "first evict \(megabytes) MiB (fresh pages)", value: coldEvict.bandwidth / 1e9, unit: "GB/s",
                        peerName: "memcpy", peerValue: peer),
            BenchResult(name: "first restore \(megabytes) MiB", value: coldRestore.bandwidth / 1e9, unit: "GB/s",
                        peerName: "memcpy", peerValue: peer),
            BenchResult(name: "evict \(megabytes) MiB (2 lanes, 8 MiB chunks)", value: evicted.bandwidth / 1e9, unit: "GB/s",
                        peerName: "memcpy", peerValue: peer),
            BenchResult(name: "restore \(megabytes) MiB (2 lanes, 8 MiB chunks)", value: restored.bandwidth / 1e9, unit: "GB/s",
                        peerName: "memcpy", peerValue: peer),
        ]
    }

    /// Keeps a copy's result observable so the optimizer cannot drop the copy.
    @inline(never)
    static func observe(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        if pointer.load(fromByteOffset: bytes - 1, as: UInt8.self) == 0xA5 { print("", terminator: "") }
    }

    /// The fastest of `runs` timed calls (for bandwidth: the least disturbed run on a shared machine).
    static func fastest(_ runs: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<runs {
            let start = MonotonicClock.nanoseconds()
            body()
            best = min(best, Double(MonotonicClock.nanoseconds() - start) / 1e9)
        }
        return best
    }

    /// Mean seconds per call of `body` over `iterations`, after a warm-up of a tenth.
    static func measure(_ iterations: Int, _ body: () -> Void) -> Double {
        for _ in 0..<max(1, iterations / 10) { body() }
        let start = MonotonicClock.nanoseconds()
        for _ in 0..<iterations { body() }
        return Double(MonotonicClock.nanoseconds() - start) / 1e9 / Double(iterations)
    }
}
