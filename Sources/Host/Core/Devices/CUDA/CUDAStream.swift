import CUDAShim
import PluginABI

/// A CUDA stream owned by the host (px_stream on a GPU). Copies, event records and kernel launches are enqueued
/// asynchronously; `synchronizeAll` is for the host only (plugins never synchronize).
public final class CUDAStream: DeviceStream, @unchecked Sendable {
    public let device: CUDADevice
    // SAFETY: created by this object, destroyed in deinit, handed to plugins only as px_stream_info.native.
    let handle: CUstream

    init(device: CUDADevice, handle: CUstream, label: String, priority: Int32, pool: WorkerPool) {
        self.device = device
        self.handle = handle
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
        _ = try? device.makeCurrent()
        _ = device.driver.api.pointee.cuStreamSynchronize(handle)
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
        // The source may be reused as soon as we return (contract): copy synchronously with respect to the host by
        // waiting for this copy; uploads of weights go through pinned staging in the memory tiers instead.
        try run("cuMemcpyHtoDAsync") { $0.cuMemcpyHtoDAsync(target + offset, source, Int(bytes), handle) }
        try run("cuStreamSynchronize") { $0.cuStreamSynchronize(handle) }
    }

    override func read(into destination: UnsafeMutableRawPointer, from buffer: HostBuffer, offset: UInt64, bytes: UInt64) throws(ServiceFailure) {
        guard let source = buffer.deviceAddress else {
            synchronizeAll()
            try super.read(into: destination, from: buffer, offset: offset, bytes: bytes)
            return
        }
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
