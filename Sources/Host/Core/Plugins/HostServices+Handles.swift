import PluginABI

/// Handle lookups for the host table: each turns a handle from the plugin into its Swift object or a failure
/// that names the call, recording the misuse.
extension HostServices {
    func scope(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> HostScope {
        try resolve(scopes.lookup(handle), handle, "scope", call)
    }

    func buffer(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> HostBuffer {
        try resolve(buffers.lookup(handle), handle, "buffer", call)
    }

    func stream(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> DeviceStream {
        try resolve(streams.lookup(handle), handle, "stream", call)
    }

    /// A stream that is not recording a graph: while one records, only launch may be called on it (ABI 1.1).
    func idleStream(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> DeviceStream {
        try idleStream(try stream(handle, call), call)
    }

    func idleStream(_ stream: DeviceStream, _ call: String) throws(ServiceFailure) -> DeviceStream {
        guard !stream.isRecording else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT,
                                 "\(call): stream '\(stream.label)' is recording a graph (graph_begin): only launch may be called on it until graph_end")
        }
        return stream
    }

    func graph(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> CUDAGraph {
        try resolve(graphs.lookup(handle), handle, "graph", call)
    }

    func module(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> KernelModule {
        try resolve(modules.lookup(handle), handle, "module", call)
    }

    func function(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> KernelFunction {
        try resolve(functions.lookup(handle), handle, "function", call)
    }

    func event(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> HostEvent {
        try resolve(events.lookup(handle), handle, "event", call)
    }

    func sink(_ handle: OpaquePointer?, _ call: String) throws(ServiceFailure) -> RequestSink {
        try resolve(sinks.lookup(handle), handle, "sink", call)
    }

    /// A buffer whose [offset, offset + bytes) is in bounds.
    func range(_ handle: OpaquePointer?, offset: UInt64, bytes: UInt64, _ call: String) throws(ServiceFailure) -> HostBuffer {
        let buffer = try buffer(handle, call)
        guard buffer.contains(offset: offset, count: bytes) else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT,
                                 "\(call): range [\(offset), +\(bytes)) is outside buffer '\(buffer.label)' of \(buffer.bytes) bytes")
        }
        return buffer
    }

    /// Like `range`, and the buffer must not be a read-only file mapping.
    func writableRange(_ handle: OpaquePointer?, offset: UInt64, bytes: UInt64, _ call: String) throws(ServiceFailure) -> HostBuffer {
        let buffer = try range(handle, offset: offset, bytes: bytes, call)
        guard buffer.memory != UInt32(PX_MEMORY_FILE) else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "\(call): buffer '\(buffer.label)' is a read-only file mapping")
        }
        return buffer
    }

    /// Hands an event to a sink; an event after FINAL is refused.
    func deliver(_ event: SinkEvent, to sink: RequestSink) throws(ServiceFailure) {
        if let refusal = sink.emit(event) {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "request \(sink.requestID): \(refusal)")
        }
    }

    private func resolve<T>(_ object: T?, _ handle: OpaquePointer?, _ kind: String, _ call: String) throws(ServiceFailure) -> T {
        if let object { return object }
        let text = handle == nil ? "\(call): NULL \(kind)" : "\(call): \(kind) handle is unknown or already released"
        recordViolation(text)
        throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, text)
    }
}
