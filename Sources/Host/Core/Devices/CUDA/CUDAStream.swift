import CUDAShim
import Glibc
import PluginABI
import Synchronization

/// A CUDA stream owned by the host (px_stream on a GPU). Copies, event records and kernel launches are enqueued
/// asynchronously; `synchronizeAll` is for the host only (plugins never synchronize).
public final class CUDAStream: DeviceStream, @unchecked Sendable {
    public let device: CUDADevice
    // SAFETY: created by this object, destroyed in deinit, handed to plugins only as px_stream_info.native.
    let handle: CUstream
    /// Where mem_write stages the plugin's bytes before the upload is enqueued.
    private let staging: StagingRing
    /// Whether the stream is recording a graph (between graph_begin and graph_end).
    private let recording = Mutex(false)

    init(device: CUDADevice, handle: CUstream, label: String, priority: Int32, pool: WorkerPool) {
        self.device = device
        self.handle = handle
        self.staging = StagingRing(device: device)
        super.init(label: label, priority: priority, pool: pool)
    }

    deinit {
        _ = try? device.makeCurrent()
        _ = device.driver.api.pointee.cuStreamDestroy(handle)
    }

    override var deviceKind: UInt32 { UInt32(PX_DEVICE_CUDA) }
    override var deviceIndex: UInt32 { UInt32(device.ordinal) }
    override var nativeHandle: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(handle) }
    override var architecture: UInt32 { device.architecture }

    override func synchronizeAll() {
        let mark = staging.mark
        _ = try? device.makeCurrent()
        if device.driver.api.pointee.cuStreamSynchronize(handle) == 0 { staging.reset(ifUnchangedSince: mark) }
    }

    /// Waits for the stream and reports a failure of its work (a kernel fault surfaces here).
    override func completeWork() throws(ServiceFailure) {
        let mark = staging.mark
        try run("cuStreamSynchronize") { $0.cuStreamSynchronize(handle) }
        staging.reset(ifUnchangedSince: mark)
    }

    /// Throws the driver's failure as a ServiceFailure for the plugin.
    private func run(_ call: String, _ body: (px_cuda_api) -> CUresult) throws(ServiceFailure) {
        do {
            try device.makeCurrent()
            try device.driver.check(body(device.driver.api.pointee), call)
        } catch {
            throw ServiceFailure(PX_ERR_DEVICE, error.description)
        }
    }

    override func write(_ buffer: HostBuffer, offset: UInt64, from source: UnsafeRawPointer, bytes: UInt64) throws(ServiceFailure) {
        guard let target = buffer.deviceAddress else {
            // Host-resident target: order after earlier work, then copy on the host.
            synchronizeAll()
            try super.write(buffer, offset: offset, from: source, bytes: bytes)
            return
        }
        // The source may be reused as soon as we return (contract): its bytes go into pinned staging first, and the
        // upload reads them from there, asynchronously.
        try staging.upload(from: source, bytes: Int(bytes), drain: { () throws(ServiceFailure) in
            try run("cuStreamSynchronize") { $0.cuStreamSynchronize(handle) }
        }, enqueue: { (slot: UnsafeRawPointer, done: Int, count: Int) throws(ServiceFailure) in
            try run("cuMemcpyHtoDAsync") { $0.cuMemcpyHtoDAsync(target + offset + UInt64(done), slot, count, handle) }
        })
    }

    override func read(into destination: UnsafeMutableRawPointer, from buffer: HostBuffer, offset: UInt64, bytes: UInt64) throws(ServiceFailure) {
        guard let source = buffer.deviceAddress else {
            synchronizeAll()
            try super.read(into: destination, from: buffer, offset: offset, bytes: bytes)
            return
        }
        // Into the caller's memory: asynchronous when it is pinned (complete by the next synchronization, which the
        // host does before step_finish), and complete on return when it is pageable (the driver waits then).
        try run("cuMemcpyDtoHAsync") { $0.cuMemcpyDtoHAsync(destination, source + offset, Int(bytes), handle) }
    }

    override func copy(to target: HostBuffer, at targetOffset: UInt64, from source: HostBuffer, at sourceOffset: UInt64,
                       bytes: UInt64) throws(ServiceFailure) {
        switch (target.deviceAddress, source.deviceAddress) {
        case let (to?, from?):
            try run("cuMemcpyDtoDAsync") { $0.cuMemcpyDtoDAsync(to + targetOffset, from + sourceOffset, Int(bytes), handle) }
        case let (to?, nil):
            guard let from = source.hostAddress else { throw Self.unreachable(source, label) }
            try run("cuMemcpyHtoDAsync") { $0.cuMemcpyHtoDAsync(to + targetOffset, from + Int(sourceOffset), Int(bytes), handle) }
        case let (nil, from?):
            guard let to = target.hostAddress else { throw Self.unreachable(target, label) }
            try run("cuMemcpyDtoHAsync") { $0.cuMemcpyDtoHAsync(to + Int(targetOffset), from + sourceOffset, Int(bytes), handle) }
        case (nil, nil):
            synchronizeAll()
            try super.copy(to: target, at: targetOffset, from: source, at: sourceOffset, bytes: bytes)
        }
    }

    override func enqueueCopy(to target: MemoryAddress, from source: MemoryAddress, bytes: UInt64) throws(ServiceFailure) {
        switch (target, source) {
        case let (.device(to), .host(from)):
            try run("cuMemcpyHtoDAsync") { $0.cuMemcpyHtoDAsync(to, from, Int(bytes), handle) }
        case let (.host(to), .device(from)):
            try run("cuMemcpyDtoHAsync") { $0.cuMemcpyDtoHAsync(to, from, Int(bytes), handle) }
        case let (.device(to), .device(from)):
            try run("cuMemcpyDtoDAsync") { $0.cuMemcpyDtoDAsync(to, from, Int(bytes), handle) }
        case let (.host(to), .host(from)):
            synchronizeAll()
            to.copyMemory(from: UnsafeRawPointer(from), byteCount: Int(bytes))
        }
    }

    override func marker() throws(ServiceFailure) -> StreamMarker {
        let event = HostEvent(scope: HostScope(name: "marker"))
        try record(event)
        return StreamMarker {
            if let cuda = event.recordedCUDAEvent { _ = event.synchronize(cuda) }
        }
    }

    override func record(_ event: HostEvent) throws(ServiceFailure) {
        let cuda = try event.cudaEvent(on: device)
        try run("cuEventRecord") { $0.cuEventRecord(cuda, handle) }
    }

    override func wait(for event: HostEvent) throws(ServiceFailure) {
        guard let cuda = event.recordedCUDAEvent else {
            event.waitOnHost()
            return
        }
        try run("cuStreamWaitEvent") { $0.cuStreamWaitEvent(handle, cuda, 0) }
    }

    override func launch(_ function: KernelFunction, config: px_launch,
                         arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws(ServiceFailure) {
        var grid = config.grid, block = config.block
        let api = device.driver.api
        try run("cuLaunchKernel(\(function.name))") { _ in
            withUnsafePointer(to: &grid) { g in
                withUnsafePointer(to: &block) { b in
                    g.withMemoryRebound(to: UInt32.self, capacity: 3) { grid in
                        b.withMemoryRebound(to: UInt32.self, capacity: 3) { block in
                            px_cuda_launch(api, function.handle, grid, block, config.shared_bytes, handle, arguments)
                        }
                    }
                }
            }
        }
    }

    // MARK: - Graphs

    override var isRecording: Bool { recording.withLock { $0 } }

    /// Starts stream capture in RELAXED mode. The capture's mode only decides which CUDA calls the capturing thread
    /// may make meanwhile (other threads are never affected by a non-GLOBAL capture): THREAD_LOCAL would turn the
    /// host's own eager calls during a recording (mem_alloc's cuMemAlloc, a freed buffer's cuMemFree, a module
    /// load) into errors that invalidate the capture, and would require graph_end on the thread that called
    /// graph_begin, which the [model] role does not promise. What must not happen while recording (copies, event
    /// records, synchronization on this stream) the host refuses itself (`isRecording`).
    override func beginRecording() throws(ServiceFailure) {
        try requireGraphs("graph_begin")
        try recording.withLock { active throws(ServiceFailure) in
            guard !active else {
                throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "graph_begin: stream '\(label)' is already recording (graph_begin twice without graph_end)")
            }
            try run("cuStreamBeginCapture") { $0.cuStreamBeginCapture(handle, Int32(PX_CU_STREAM_CAPTURE_MODE_RELAXED)) }
            active = true
        }
    }

    /// Ends the capture and instantiates it; on any failure the capture is discarded and the stream is idle again.
    override func endRecording(scope: HostScope) throws(ServiceFailure) -> CUDAGraph {
        try requireGraphs("graph_end")
        let wasRecording = recording.withLock { active in
            defer { active = false }
            return active
        }
        guard wasRecording else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "graph_end: stream '\(label)' is not recording (no graph_begin)")
        }
        let api = device.driver.api.pointee
        var graph: CUgraph?
        do throws(ServiceFailure) {
            try run("cuStreamEndCapture") { $0.cuStreamEndCapture(handle, &graph) }
        } catch {
            if let graph { _ = api.cuGraphDestroy(graph) }
            abandonCapture()
            throw ServiceFailure(error.status, "graph_end: \(error.message); the recording was discarded")
        }
        guard let graph else { throw ServiceFailure(PX_ERR_DEVICE, "graph_end: cuStreamEndCapture returned no graph") }
        defer { _ = api.cuGraphDestroy(graph) }  // the executable graph does not need its template
        var exec: CUgraphExec?
        try run("cuGraphInstantiateWithFlags") { $0.cuGraphInstantiateWithFlags(&exec, graph, 0) }
        guard let exec else { throw ServiceFailure(PX_ERR_DEVICE, "graph_end: cuGraphInstantiateWithFlags returned no graph") }
        return CUDAGraph(device: device, scope: scope, exec: exec)
    }

    /// Ends a recording nobody will finish (a step that returned while recording); returns whether there was one.
    override func discardRecording() -> Bool {
        guard recording.withLock({ active in defer { active = false }; return active }) else { return false }
        _ = try? device.makeCurrent()
        var graph: CUgraph?
        if device.driver.api.pointee.cuStreamEndCapture(handle, &graph) != 0 { abandonCapture() }
        if let graph { _ = device.driver.api.pointee.cuGraphDestroy(graph) }
        return true
    }

    override func launch(_ graph: CUDAGraph) throws(ServiceFailure) {
        try requireGraphs("graph_launch")
        guard graph.device === device else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "graph_launch: the graph was recorded on cuda:\(graph.device.ordinal), stream '\(label)' is on cuda:\(device.ordinal)")
        }
        try run("cuGraphLaunch") { $0.cuGraphLaunch(graph.exec, handle) }
    }

    override func requireGraphs(_ call: String) throws(ServiceFailure) {
        guard device.driver.hasGraphs else {
            throw ServiceFailure(PX_ERR_UNSUPPORTED, "\(call): this CUDA driver lacks stream capture or graph entry points (CUDA 11.4 or newer needed)")
        }
    }

    /// Makes sure the stream has left capture after a failed end (a second end, whose graph is dropped).
    private func abandonCapture() {
        let api = device.driver.api.pointee
        var status: Int32 = 0
        guard api.cuStreamIsCapturing(handle, &status) == 0, status != Int32(PX_CU_STREAM_CAPTURE_STATUS_NONE) else { return }
        var graph: CUgraph?
        _ = api.cuStreamEndCapture(handle, &graph)
        if let graph { _ = api.cuGraphDestroy(graph) }
    }

    override func compile(_ source: KernelSourceText) throws(ServiceFailure) -> KernelModule {
        guard let compiler = device.compiler else {
            throw ServiceFailure(PX_ERR_UNSUPPORTED, "module_compile: NVRTC is not available (\(device.driver.nvrtcProblem ?? "unknown"))")
        }
        do {
            let cubin = try compiler.cubin(for: source)
            return try KernelModule(device: device, cubin: cubin, name: source.name)
        } catch {
            throw ServiceFailure(error.call.hasPrefix("nvrtcCompileProgram") ? PX_ERR_INVALID_ARGUMENT : PX_ERR_DEVICE, error.description)
        }
    }
}
