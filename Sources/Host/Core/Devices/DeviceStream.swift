import PluginABI

/// A stream the host hands to plugins (px_stream): an ordered queue of work on one device. The CPU and CUDA
/// streams subclass it; the host table calls only what is declared here, so it never switches on the device.
public class DeviceStream: @unchecked Sendable {
    /// Name for logs, e.g. "cpu lane 0" or "cuda:0 stream 3 (priority -1)".
    public let label: String
    /// Lower is more urgent (CUDA's convention); 0 on the CPU.
    public let priority: Int32
    /// The CPU pool parallel_for runs on (every stream has one: CUDA plugins may do CPU work too).
    public let pool: WorkerPool

    init(label: String, priority: Int32, pool: WorkerPool) {
        self.label = label
        self.priority = priority
        self.pool = pool
    }

    /// PX_DEVICE_* of the stream.
    var deviceKind: UInt32 { UInt32(PX_DEVICE_CPU) }
    /// Ordinal of the device of its kind.
    var deviceIndex: UInt32 { 0 }
    /// The native stream handle (CUstream), or nil.
    var nativeHandle: UnsafeMutableRawPointer? { nil }
    /// Compute capability major*10+minor, 0 on the CPU.
    var architecture: UInt32 { 0 }

    /// Waits until everything enqueued so far has completed.
    func synchronizeAll() {}

    /// Waits until the work enqueued so far has completed and throws if it failed (before step_finish). A CPU
    /// stream's work is complete when the call that enqueued it returns.
    func completeWork() throws(ServiceFailure) {}

    /// Copies host bytes into a buffer (the source may be reused when this returns).
    func write(_ buffer: HostBuffer, offset: UInt64, from source: UnsafeRawPointer, bytes: UInt64) throws(ServiceFailure) {
        guard let target = buffer.hostAddress else { throw Self.unreachable(buffer, label) }
        target.advanced(by: Int(offset)).copyMemory(from: source, byteCount: Int(bytes))
    }

    /// Copies buffer bytes into host memory (complete on return on the CPU, at the stream's next sync on CUDA).
    func read(into destination: UnsafeMutableRawPointer, from buffer: HostBuffer, offset: UInt64, bytes: UInt64) throws(ServiceFailure) {
        guard let source = buffer.hostAddress else { throw Self.unreachable(buffer, label) }
        destination.copyMemory(from: source.advanced(by: Int(offset)), byteCount: Int(bytes))
    }

    /// Copies between buffers.
    func copy(to target: HostBuffer, at targetOffset: UInt64, from source: HostBuffer, at sourceOffset: UInt64,
              bytes: UInt64) throws(ServiceFailure) {
        guard let to = target.hostAddress, let from = source.hostAddress else { throw Self.unreachable(target, label) }
        to.advanced(by: Int(targetOffset)).copyMemory(from: UnsafeRawPointer(from.advanced(by: Int(sourceOffset))), byteCount: Int(bytes))
    }

    /// Marks the current end of the stream in `event`.
    func record(_ event: HostEvent) throws(ServiceFailure) { event.recordNow() }

    /// Makes later work on this stream wait for `event`.
    func wait(for event: HostEvent) throws(ServiceFailure) { event.waitOnHost() }

    /// Enqueues a kernel: only device streams can.
    func launch(_ function: KernelFunction, config: px_launch, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws(ServiceFailure) {
        throw ServiceFailure(PX_ERR_UNSUPPORTED, "launch: stream '\(label)' is a CPU stream; kernels need a CUDA stream")
    }

    /// Compiles device code for this stream's device.
    func compile(_ source: KernelSourceText) throws(ServiceFailure) -> KernelModule {
        throw ServiceFailure(PX_ERR_UNSUPPORTED, "module_compile: stream '\(label)' is a CPU stream; no CUDA device in this process")
    }

    /// Whether the stream is recording a graph: then only kernel launches may be enqueued on it.
    var isRecording: Bool { false }

    /// Throws PX_ERR_UNSUPPORTED unless the stream can record and replay graphs.
    func requireGraphs(_ call: String) throws(ServiceFailure) {
        throw ServiceFailure(PX_ERR_UNSUPPORTED, "\(call): stream '\(label)' is a CPU stream; graphs need a CUDA stream (on the CPU, run the work directly)")
    }

    /// Starts recording the stream's launches into a graph.
    func beginRecording() throws(ServiceFailure) { try requireGraphs("graph_begin") }

    /// Stops recording and instantiates the graph, owned by `scope`.
    func endRecording(scope: HostScope) throws(ServiceFailure) -> CUDAGraph {
        try requireGraphs("graph_end")
        throw ServiceFailure(PX_ERR_UNSUPPORTED, "graph_end: stream '\(label)' cannot record")
    }

    /// Drops a recording in progress; returns whether there was one.
    func discardRecording() -> Bool { false }

    /// Enqueues one replay of a graph.
    func launch(_ graph: CUDAGraph) throws(ServiceFailure) { try requireGraphs("graph_launch") }

    /// Enqueues an asynchronous copy between raw locations (the memory tiers' engine); ordered on this stream.
    func enqueueCopy(to target: MemoryAddress, from source: MemoryAddress, bytes: UInt64) throws(ServiceFailure) {
        throw ServiceFailure(PX_ERR_UNSUPPORTED, "stream '\(label)' cannot copy asynchronously")
    }

    /// A marker at the current end of the stream: wait on it to know everything enqueued so far has completed.
    func marker() throws(ServiceFailure) -> StreamMarker { StreamMarker { } }

    static func unreachable(_ buffer: HostBuffer, _ label: String) -> ServiceFailure {
        ServiceFailure(PX_ERR_INVALID_ARGUMENT, "buffer '\(buffer.label)' lives in device memory that stream '\(label)' cannot reach")
    }
}

/// Completion of the work a stream had when the marker was taken.
struct StreamMarker: Sendable {
    let wait: @Sendable () -> Void
}

/// A raw pointer that may cross to a lane thread: the owner guarantees it stays valid until the operation ran.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}
