import CUDAShim
import Glibc
import PluginABI

/// GPU benchmarks, each next to its peer in the same run: the host's launch path vs a raw cuLaunchKernel, streams
/// run together vs one after another, and weight evict/restore vs the measured pinned link.
struct CUDABenchmarks {
    let gpu: CUDADevice
    let cpu: CPUDevice

    static let kernels = """
        extern "C" __global__ void px_empty() {}
        extern "C" __global__ void px_spin(long long cycles) {
            long long start = clock64();
            while (clock64() - start < cycles) {}
        }
        """

    func run() -> [BenchResult] {
        do throws(CUDAError) {
            guard let compiler = gpu.compiler else {
                throw CUDAError(call: "NVRTC", code: -1, message: gpu.driver.nvrtcProblem ?? "NVRTC missing")
            }
            let compileStart = MonotonicClock.nanoseconds()
            let cubin = try compiler.cubin(for: KernelSourceText(name: "bench.cu", source: Self.kernels))
            let compileMs = Double(MonotonicClock.nanoseconds() - compileStart) / 1e6
            let module = try KernelModule(device: gpu, cubin: cubin, name: "bench.cu")
            var results = [BenchResult(name: "module compile or cache hit (bench.cu)", value: compileMs, unit: "ms")]
            results += try launchOverhead(module.function(named: "px_empty"))
            results.append(try graphReplay(module.function(named: "px_empty")))
            results.append(try overlap(module.function(named: "px_spin")))
            let (bandwidth, pinned) = try linkBandwidth()
            results += bandwidth
            results += tiers(pinnedBandwidth: pinned)
            return results
        } catch {
            var failure = BenchResult(name: "cuda benchmarks", value: 0, unit: "", note: error.description)
            failure.failed = true
            return [failure]
        }
    }

    private var api: px_cuda_api { gpu.driver.api.pointee }

    private func check(_ result: CUresult, _ call: String) throws(CUDAError) { try gpu.driver.check(result, call) }

    private func seconds(_ body: () throws(CUDAError) -> Void) throws(CUDAError) -> Double {
        let start = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() - start) / 1e9
    }

    /// Empty-kernel launch cost: the px_host `launch` a plugin calls vs cuLaunchKernel directly.
    private func launchOverhead(_ function: KernelFunction, launches: Int = 20_000) throws(CUDAError) -> [BenchResult] {
        let stream = try gpu.makeStream(label: "bench launch", urgent: false, pool: cpu.pool)
        let one: [UInt32] = [1, 1, 1]
        let raw = try seconds { () throws(CUDAError) in
            for _ in 0..<launches {
                try check(one.withUnsafeBufferPointer { g in px_cuda_launch(gpu.driver.api, function.handle, g.baseAddress, g.baseAddress, 0, stream.handle, nil) }, "cuLaunchKernel")
            }
            try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
        }
        let services = HostServices(pluginID: "bench", memory: HostMemory(pinningDevice: gpu), cpu: cpu) { _ in }
        let streamHandle = services.handle(for: stream)
        let functionHandle = services.functions.insert(function)
        let host = services.host
        var config = px_launch()
        config.header = px_header(size: UInt32(MemoryLayout<px_launch>.size), version: 1)
        config.grid = (1, 1, 1)
        config.block = (1, 1, 1)
        let viaHost = try seconds { () throws(CUDAError) in
            for _ in 0..<launches {
                let status = host.pointee.launch!(host, streamHandle, functionHandle, &config, nil)
                if status != 0 { throw CUDAError(call: "px_host.launch", code: status, message: "host launch failed") }
            }
            try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
        }
        return [BenchResult(name: "empty kernel launch via px_host", value: viaHost / Double(launches) * 1e6, unit: "us",
                            peerName: "raw cuLaunchKernel", peerValue: raw / Double(launches) * 1e6)]
    }

    /// 100 empty kernels launched one by one through px_host vs the same 100 recorded once (graph_begin/graph_end)
    /// and replayed as one graph_launch: microseconds per 100, best of `rounds` (each round ends with a sync).
    private func graphReplay(_ function: KernelFunction, kernels: Int = 100, rounds: Int = 50) throws(CUDAError) -> BenchResult {
        let stream = try gpu.makeStream(label: "bench graph", urgent: false, pool: cpu.pool)
        let services = HostServices(pluginID: "bench", memory: HostMemory(pinningDevice: gpu), cpu: cpu) { _ in }
        let (_, scope) = services.openScope(name: "bench graph", device: gpu)
        defer { services.closeScope(scope) }
        let streamHandle = services.handle(for: stream)
        let functionHandle = services.functions.insert(function)
        let host = services.host
        var config = px_launch()
        config.header = px_header(size: UInt32(MemoryLayout<px_launch>.size), version: 1)
        config.grid = (1, 1, 1)
        config.block = (1, 1, 1)
        func status(_ value: px_status, _ call: String) throws(CUDAError) {
            guard value != 0 else { return }
            throw CUDAError(call: "px_host.\(call)", code: value, message: HostServices.takeError() ?? "failed")
        }
        func launchAll() throws(CUDAError) {
            for _ in 0..<kernels { try status(host.pointee.launch!(host, streamHandle, functionHandle, &config, nil), "launch") }
        }
        try status(host.pointee.graph_begin!(host, streamHandle), "graph_begin")
        try launchAll()
        var graph: OpaquePointer?
        try status(host.pointee.graph_end!(host, scope, streamHandle, &graph), "graph_end")
        defer { host.pointee.graph_free!(host, graph) }
        func best(_ body: () throws(CUDAError) -> Void) throws(CUDAError) -> Double {
            try body()  // warm-up (the first replay uploads the graph)
            try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
            var fastest = Double.infinity
            for _ in 0..<rounds {
                fastest = min(fastest, try seconds { () throws(CUDAError) in
                    try body()
                    try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
                })
            }
            return fastest * 1e6
        }
        let oneByOne = try best { () throws(CUDAError) in try launchAll() }
        let replayed = try best { () throws(CUDAError) in try status(host.pointee.graph_launch!(host, graph, streamHandle), "graph_launch") }
        return BenchResult(name: "\(kernels) empty kernels as one graph replay", value: replayed, unit: "us",
                           peerName: "launched one by one", peerValue: oneByOne, note: "px_host graph_begin/graph_end, then graph_launch")
    }

    /// Four spinning single-block kernels on four streams vs the same four on one stream.
    private func overlap(_ function: KernelFunction) throws(CUDAError) -> BenchResult {
        let streams = try (0..<4).map { (index: Int) throws(CUDAError) -> CUDAStream in
            try gpu.makeStream(label: "bench overlap \(index)", urgent: false, pool: cpu.pool)
        }
        var cycles: Int64 = 20_000_000
        func spin(_ stream: CUDAStream) throws(CUDAError) {
            let one: [UInt32] = [1, 1, 1]
            let result = withUnsafeMutablePointer(to: &cycles) { pointer -> CUresult in
                var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(pointer)]
                return one.withUnsafeBufferPointer { g in
                    args.withUnsafeMutableBufferPointer { px_cuda_launch(gpu.driver.api, function.handle, g.baseAddress, g.baseAddress, 0, stream.handle, $0.baseAddress) }
                }
            }
            try check(result, "cuLaunchKernel(px_spin)")
        }
        try spin(streams[0])
        try check(api.cuStreamSynchronize(streams[0].handle), "cuStreamSynchronize")
        let serial = try seconds { () throws(CUDAError) in
            for _ in 0..<4 { try spin(streams[0]) }
            try check(api.cuStreamSynchronize(streams[0].handle), "cuStreamSynchronize")
        }
        let parallel = try seconds { () throws(CUDAError) in
            for stream in streams { try spin(stream) }
            for stream in streams { try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize") }
        }
        return BenchResult(name: "4 streams overlapped (speedup over 1 stream)", value: serial / parallel, unit: "x",
                           note: "spin kernels of 20M cycles, 1 block each")
    }

    /// Host-to-device bandwidth from pinned and pageable memory, and device-to-device; returns the pinned figure.
    private func linkBandwidth(bytes: Int = 256 << 20) throws(CUDAError) -> ([BenchResult], Double) {
        let stream = try gpu.makeStream(label: "bench copy", urgent: false, pool: cpu.pool)
        let device = try gpu.allocate(bytes: UInt64(bytes))
        let device2 = try gpu.allocate(bytes: UInt64(bytes))
        let pinned = try gpu.allocatePinned(bytes: UInt64(bytes))
        let pageable = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { gpu.free(device: device); gpu.free(device: device2); gpu.free(pinned: pinned); pageable.deallocate() }
        memset(pinned, 1, bytes)
        memset(pageable, 1, bytes)
        let pinnedGBs = try copyBandwidth(bytes, on: stream) { api.cuMemcpyHtoDAsync(device, pinned, bytes, stream.handle) }
        let pageableGBs = try copyBandwidth(bytes, on: stream) { api.cuMemcpyHtoDAsync(device, pageable, bytes, stream.handle) }
        let d2d = try copyBandwidth(bytes, on: stream) { api.cuMemcpyDtoDAsync(device2, device, bytes, stream.handle) }
        return ([
            BenchResult(name: "host->device, pinned (256 MiB)", value: pinnedGBs, unit: "GB/s"),
            BenchResult(name: "host->device, pageable (256 MiB)", value: pageableGBs, unit: "GB/s", peerName: "pinned", peerValue: pinnedGBs),
            BenchResult(name: "device->device read+write (256 MiB)", value: 2 * d2d, unit: "GB/s"),
        ], pinnedGBs)
    }

    /// The pinned host-to-device link for `bytes` in GB/s: the peer of a weight restore of that size.
    func pinnedLink(bytes: Int) throws(CUDAError) -> Double {
        let stream = try gpu.makeStream(label: "bench link", urgent: false, pool: cpu.pool)
        let device = try gpu.allocate(bytes: UInt64(bytes))
        let pinned = try gpu.allocatePinned(bytes: UInt64(bytes))
        defer { gpu.free(device: device); gpu.free(pinned: pinned) }
        memset(pinned, 1, bytes)
        return try copyBandwidth(bytes, on: stream) { api.cuMemcpyHtoDAsync(device, pinned, bytes, stream.handle) }
    }

    /// GB/s of the fastest of 3 copies of `bytes` (after one warm-up), each enqueued by `body` on `stream`.
    private func copyBandwidth(_ bytes: Int, on stream: CUDAStream, _ body: () -> CUresult) throws(CUDAError) -> Double {
        try check(body(), "cuMemcpy warm-up")
        try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
        var best = Double.infinity
        for _ in 0..<3 {
            best = min(best, try seconds { () throws(CUDAError) in
                try check(body(), "cuMemcpy")
                try check(api.cuStreamSynchronize(stream.handle), "cuStreamSynchronize")
            })
        }
        return Double(bytes) / best / 1e9
    }

    /// 1 GiB of weights evicted to pinned host memory and restored, over 2 and 4 streams, against the link.
    private func tiers(pinnedBandwidth: Double) -> [BenchResult] {
        let memory = HostMemory(pinningDevice: gpu)
        let scope = HostScope(name: "bench weights", device: gpu)
        var buffers: [HostBuffer] = []
        for index in 0..<128 {
            guard let buffer = try? memory.allocate(scope: scope, label: "layer \(index)", memory: UInt32(PX_MEMORY_DEVICE),
                                                    residency: UInt32(PX_RESIDENCY_WEIGHTS), bytes: 8 << 20, alignment: 0) else { break }
            buffers.append(buffer)
        }
        var results: [BenchResult] = []
        for count in [2, 4] {
            guard let streams = try? (0..<count).map({ (index: Int) throws(CUDAError) -> DeviceStream in
                try gpu.makeStream(label: "tier \(index)", urgent: false, pool: cpu.pool)
            }) else { continue }
            let mover = TierMover(memory: memory, streams: streams)
            guard (try? mover.evict(buffers)) != nil, (try? mover.restore(buffers)) != nil,  // first cycle pins the host tier
                  let evicted = try? mover.evict(buffers), let restored = try? mover.restore(buffers) else {
                var failure = BenchResult(name: "evict/restore over \(count) streams", value: 0, unit: "GB/s", note: "a move failed")
                failure.failed = true
                results.append(failure)
                continue
            }
            results.append(BenchResult(name: "evict 1 GiB over \(count) streams", value: evicted.bandwidth / 1e9, unit: "GB/s",
                                       peerName: "pinned H2D link", peerValue: pinnedBandwidth))
            results.append(BenchResult(name: "restore 1 GiB over \(count) streams", value: restored.bandwidth / 1e9, unit: "GB/s",
                                       peerName: "pinned H2D link", peerValue: pinnedBandwidth, note: "goal >= 0.8x the link"))
        }
        return results
    }
}
