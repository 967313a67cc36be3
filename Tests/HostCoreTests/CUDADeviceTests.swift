import PluginABI
import Testing
@testable import HostCore

/// The GPU, once per test process; nil on a machine without one (then these suites are skipped, not failed).
enum GPUFixture {
    static let devices = DeviceSet.discover(environment: ProcessEnvironment.current(), cpuThreads: 2)
    static var gpu: CUDADevice? { devices.gpus.first }
    static var available: Bool { gpu?.compiler != nil }
}

/// The CUDA device through the same px_host table plugins use: NVRTC compile + cache, device memory, launches,
/// copies, events, and weight evict/restore. Skipped without a GPU; run by scripts/gpu-check on one.
@Suite(.enabled(if: GPUFixture.available, "needs a GPU with NVRTC"))
struct CUDADeviceTests {
    static let fill = """
        extern "C" __global__ void px_fill(float *out, float value, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = value + (float)i;
        }
        """

    @Test func compilesLaunchesAndReadsBackThroughTheHostTable() throws {
        let gpu = try #require(GPUFixture.gpu)
        let services = HostServices(pluginID: "gpu-test", memory: HostMemory(pinningDevice: gpu), cpu: GPUFixture.devices.cpu) { _ in }
        let (scope, scopeHandle) = services.openScope(name: "model gpu-test", device: gpu)
        let stream = try gpu.makeStream(label: "test", urgent: true, pool: GPUFixture.devices.cpu.pool)
        let streamHandle = services.handle(for: stream)
        let host = services.host.pointee
        let h = services.host

        var source = px_kernel_source()
        source.header = px_header(size: UInt32(MemoryLayout<px_kernel_source>.size), version: 1)
        var module: OpaquePointer?
        let status = Self.fill.withCString { text in
            "fill.cu".withCString { name in
                source.source = text
                source.name = name
                return host.module_compile!(h, scopeHandle, streamHandle, &source, &module)
            }
        }
        #expect(status == 0)
        var function: OpaquePointer?
        #expect(host.module_function!(h, module, "px_fill", &function) == 0)

        let n: Int32 = 1000
        var desc = px_alloc_desc()
        desc.header = px_header(size: UInt32(MemoryLayout<px_alloc_desc>.size), version: 1)
        desc.bytes = UInt64(n) * 4
        desc.memory = UInt32(PX_MEMORY_DEVICE)
        desc.residency = UInt32(PX_RESIDENCY_ACTIVATIONS)
        var buffer: OpaquePointer?
        #expect(host.mem_alloc!(h, scopeHandle, &desc, &buffer) == 0)
        var view = px_buffer_view()
        view.header = px_header(size: UInt32(MemoryLayout<px_buffer_view>.size), version: 1)
        #expect(host.mem_address!(h, buffer, &view) == 0)
        #expect(view.host == nil && view.device != 0)

        var address = view.device, value: Float = 0.5, count = n
        var config = px_launch()
        config.header = px_header(size: UInt32(MemoryLayout<px_launch>.size), version: 1)
        config.grid = (UInt32((n + 255) / 256), 1, 1)
        config.block = (256, 1, 1)
        let launched = withUnsafeMutablePointer(to: &address) { a in
            withUnsafeMutablePointer(to: &value) { v in
                withUnsafeMutablePointer(to: &count) { c in
                    var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(a), UnsafeMutableRawPointer(v), UnsafeMutableRawPointer(c)]
                    return args.withUnsafeMutableBufferPointer { host.launch!(h, streamHandle, function, &config, $0.baseAddress) }
                }
            }
        }
        #expect(launched == 0)
        var out = [Float](repeating: 0, count: Int(n))
        #expect(out.withUnsafeMutableBytes { host.mem_read!(h, streamHandle, $0.baseAddress, buffer, 0, UInt64(n) * 4) } == 0)
        #expect(host.stream_synchronize!(h, streamHandle) == 0)
        #expect(out[0] == 0.5 && out[999] == 999.5)

        host.mem_free!(h, buffer)
        host.module_free!(h, module)
        #expect(scope.liveObjects().isEmpty)
        #expect(services.violations.isEmpty)
    }

    @Test func aSecondCompileIsACacheHit() throws {
        let gpu = try #require(GPUFixture.gpu)
        let compiler = try #require(gpu.compiler)
        let source = KernelSourceText(name: "cache.cu", source: Self.fill + "\n// cache probe \(MonotonicClock.nanoseconds())\n")
        _ = try compiler.cubin(for: source)
        let path = "\(compiler.cacheDirectory)/\(compiler.cacheKey(for: source)).cubin"
        #expect(KernelCache.read(path) != nil)
        let compiled = compiler.compilations
        _ = try compiler.cubin(for: source)
        #expect(compiler.compilations == compiled, "a cache hit should not invoke NVRTC")
    }

    @Test func weightsSurviveEvictAndRestore() throws {
        let gpu = try #require(GPUFixture.gpu)
        let memory = HostMemory(pinningDevice: gpu)
        let scope = HostScope(name: "weights", device: gpu)
        let stream = try gpu.makeStream(label: "upload", urgent: false, pool: GPUFixture.devices.cpu.pool)
        let bytes = 3 << 20 + 17
        let pattern = (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let buffers = try (0..<3).map { index -> HostBuffer in
            let buffer = try memory.allocate(scope: scope, label: "w\(index)", memory: UInt32(PX_MEMORY_DEVICE),
                                             residency: UInt32(PX_RESIDENCY_WEIGHTS), bytes: UInt64(bytes), alignment: 0)
            try pattern.withUnsafeBytes { try stream.write(buffer, offset: 0, from: $0.baseAddress!, bytes: UInt64(bytes)) }
            return buffer
        }
        let streams = try (0..<2).map { try gpu.makeStream(label: "tier \($0)", urgent: false, pool: GPUFixture.devices.cpu.pool) }
        let mover = TierMover(memory: memory, streams: streams, chunkBytes: 1 << 20)
        #expect(try mover.evict(buffers).buffers == 3)
        #expect(buffers.allSatisfy { $0.isParked && $0.deviceAddress == nil })
        #expect(try mover.restore(buffers).buffers == 3)
        for buffer in buffers {
            var back = [UInt8](repeating: 0, count: bytes)
            try back.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, from: buffer, offset: 0, bytes: UInt64(bytes)) }
            stream.synchronizeAll()
            #expect(back == pattern)
        }
    }

    /// A fill kernel recorded with graph_begin/graph_end and replayed: the replay writes the buffer; while recording,
    /// mem_write is refused; a graph_end that fails (NULL out-parameter) discards the recording and leaves the stream
    /// usable; a graph still live when its scope closes is freed and reported.
    @Test func recordsAndReplaysAGraph() throws {
        let gpu = try #require(GPUFixture.gpu)
        let services = HostServices(pluginID: "gpu-graph-test", memory: HostMemory(pinningDevice: gpu), cpu: GPUFixture.devices.cpu) { _ in }
        let (scope, scopeHandle) = services.openScope(name: "model gpu-graph-test", device: gpu)
        let stream = try gpu.makeStream(label: "graph test", urgent: false, pool: GPUFixture.devices.cpu.pool)
        let s = services.handle(for: stream)
        let h = services.host
        let host = h.pointee
        let module = try KernelModule(device: gpu, cubin: try #require(gpu.compiler).cubin(for: KernelSourceText(name: "fill.cu", source: Self.fill)),
                                      name: "fill.cu")
        let function = services.functions.insert(try module.function(named: "px_fill"))
        let n: Int32 = 4096
        var desc = px_alloc_desc()
        desc.header = px_header(size: UInt32(MemoryLayout<px_alloc_desc>.size), version: 1)
        desc.bytes = UInt64(n) * 4
        desc.memory = UInt32(PX_MEMORY_DEVICE)
        desc.residency = UInt32(PX_RESIDENCY_ACTIVATIONS)
        var buffer: OpaquePointer?
        #expect(host.mem_alloc!(h, scopeHandle, &desc, &buffer) == 0)
        var view = px_buffer_view()
        view.header = px_header(size: UInt32(MemoryLayout<px_buffer_view>.size), version: 1)
        #expect(host.mem_address!(h, buffer, &view) == 0)
        let zeros = [Float](repeating: 0, count: Int(n))
        #expect(zeros.withUnsafeBytes { host.mem_write!(h, s, buffer, 0, $0.baseAddress, desc.bytes) } == 0)

        var address = view.device, value: Float = 2, count = n
        var config = px_launch()
        config.header = px_header(size: UInt32(MemoryLayout<px_launch>.size), version: 1)
        config.grid = (UInt32((n + 255) / 256), 1, 1)
        config.block = (256, 1, 1)
        func launchFill() -> px_status {
            withUnsafeMutablePointer(to: &address) { a in
                withUnsafeMutablePointer(to: &value) { v in
                    withUnsafeMutablePointer(to: &count) { c in
                        var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(a), UnsafeMutableRawPointer(v), UnsafeMutableRawPointer(c)]
                        return args.withUnsafeMutableBufferPointer { host.launch!(h, s, function, &config, $0.baseAddress) }
                    }
                }
            }
        }
        #expect(host.graph_begin!(h, s) == 0)
        #expect(launchFill() == 0)
        #expect(zeros.withUnsafeBytes { host.mem_write!(h, s, buffer, 0, $0.baseAddress, desc.bytes) } == px_status(PX_ERR_INVALID_ARGUMENT))
        _ = HostServices.takeError()
        var graph: OpaquePointer?
        #expect(host.graph_end!(h, scopeHandle, s, &graph) == 0)
        #expect(graph != nil)
        var out = [Float](repeating: 0, count: Int(n))
        #expect(out.withUnsafeMutableBytes { host.mem_read!(h, s, $0.baseAddress, buffer, 0, desc.bytes) } == 0)
        #expect(host.stream_synchronize!(h, s) == 0)
        #expect(out[0] == 0, "recording must not run the kernel")
        #expect(host.graph_launch!(h, graph, s) == 0)
        #expect(out.withUnsafeMutableBytes { host.mem_read!(h, s, $0.baseAddress, buffer, 0, desc.bytes) } == 0)
        #expect(host.stream_synchronize!(h, s) == 0)
        #expect(out[0] == 2 && out[4095] == 4097)

        // graph_end without graph_begin, then a failed graph_end: the stream stays usable
        #expect(host.graph_end!(h, scopeHandle, s, &graph) == px_status(PX_ERR_INVALID_ARGUMENT))
        #expect(host.graph_begin!(h, s) == 0)
        #expect(launchFill() == 0)
        #expect(host.graph_end!(h, scopeHandle, s, nil) == px_status(PX_ERR_INVALID_ARGUMENT))
        _ = HostServices.takeError()
        #expect(!stream.isRecording)
        #expect(zeros.withUnsafeBytes { host.mem_write!(h, s, buffer, 0, $0.baseAddress, desc.bytes) } == 0)
        #expect(host.stream_synchronize!(h, s) == 0)

        host.graph_free!(h, graph)
        host.mem_free!(h, buffer)
        #expect(scope.liveObjects().isEmpty)
        #expect(services.violations.isEmpty)
    }

    /// mem_write from pageable memory returns with the bytes staged: overwriting the source at once does not change
    /// what arrives, also for a write larger than the staging ring.
    @Test func memWriteCopiesTheSourceBeforeReturning() throws {
        let gpu = try #require(GPUFixture.gpu)
        let memory = HostMemory(pinningDevice: gpu)
        let scope = HostScope(name: "staging", device: gpu)
        let stream = try gpu.makeStream(label: "staging test", urgent: false, pool: GPUFixture.devices.cpu.pool)
        let bytes = (8 << 20) * 2 + 12_345
        let buffer = try memory.allocate(scope: scope, label: "target", memory: UInt32(PX_MEMORY_DEVICE),
                                         residency: UInt32(PX_RESIDENCY_ACTIVATIONS), bytes: UInt64(bytes), alignment: 0)
        var source = (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let expected = source
        try source.withUnsafeBytes { try stream.write(buffer, offset: 0, from: $0.baseAddress!, bytes: UInt64(bytes)) }
        for index in source.indices { source[index] = 0xEE }
        var back = [UInt8](repeating: 0, count: bytes)
        try back.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, from: buffer, offset: 0, bytes: UInt64(bytes)) }
        try stream.completeWork()
        #expect(back == expected)
    }

    /// The KV arena of a model on a GPU is device memory.
    @Test func theKVArenaOfAGPUModelIsDeviceMemory() throws {
        let gpu = try #require(GPUFixture.gpu)
        let services = HostServices(pluginID: "kv-test", memory: HostMemory(pinningDevice: gpu), cpu: GPUFixture.devices.cpu) { _ in }
        var c = px_model_info()
        c.kv_page_tokens = 16
        c.kv_page_bytes = 4096
        let arena = try #require(try KVArena.make(for: ModelInfo(c), pages: 4, modelID: "kv", device: gpu, services: services))
        #expect(arena.buffer.deviceAddress != nil && arena.buffer.hostAddress == nil)
        arena.release(services: services)
    }
}

