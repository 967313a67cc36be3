import CUDAShim
import Glibc

/// One GPU under the host's control: its primary context, properties, streams and memory. Plugins never see the
/// context; they get streams and buffers from the host.
public final class CUDADevice: @unchecked Sendable {
    public let driver: CUDADriver
    public let ordinal: Int32
    public let name: String
    /// Compute capability major*10+minor (90 on H100/H200).
    public let architecture: UInt32
    public let multiprocessors: Int32
    public let totalMemory: UInt64
    /// Stream priorities: `greatest` is the most urgent (numerically lowest).
    public let priorityRange: (least: Int32, greatest: Int32)
    // SAFETY: the primary context is retained for the process lifetime and only made current, never destroyed.
    let context: CUcontext
    let handle: CUdevice
    /// Compiles and caches kernels for this device; nil without NVRTC.
    public let compiler: KernelCompiler?

    /// Opens device `ordinal`: retains its primary context and reads its properties.
    public init(driver: CUDADriver, ordinal: Int32, cacheDirectory: String) throws(CUDAError) {
        let api = driver.api.pointee
        var device: CUdevice = 0
        try driver.check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet")
        var context: CUcontext?
        try driver.check(api.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try driver.check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var nameBuffer = [CChar](repeating: 0, count: 256)
        try driver.check(api.cuDeviceGetName(&nameBuffer, Int32(nameBuffer.count), device), "cuDeviceGetName")
        var major: Int32 = 0, minor: Int32 = 0, sms: Int32 = 0
        try driver.check(api.cuDeviceGetAttribute(&major, Int32(PX_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR), device), "cuDeviceGetAttribute")
        try driver.check(api.cuDeviceGetAttribute(&minor, Int32(PX_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), device), "cuDeviceGetAttribute")
        try driver.check(api.cuDeviceGetAttribute(&sms, Int32(PX_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), device), "cuDeviceGetAttribute")
        var total: Int = 0
        try driver.check(api.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem")
        var least: Int32 = 0, greatest: Int32 = 0
        try driver.check(api.cuCtxGetStreamPriorityRange(&least, &greatest), "cuCtxGetStreamPriorityRange")
        self.driver = driver
        self.ordinal = ordinal
        self.handle = device
        self.context = context!
        self.name = nameBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        self.architecture = UInt32(major * 10 + minor)
        self.multiprocessors = sms
        self.totalMemory = UInt64(total)
        self.priorityRange = (least, greatest)
        self.compiler = driver.nvrtc == nil ? nil : KernelCompiler(driver: driver, architecture: UInt32(major * 10 + minor),
                                                                     cacheDirectory: cacheDirectory)
    }

    /// Makes the device's context current on the calling thread (cheap; every host thread that touches CUDA calls it).
    func makeCurrent() throws(CUDAError) {
        try driver.check(driver.api.pointee.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// A new non-blocking stream; `urgent` picks the device's most urgent priority, otherwise the least.
    public func makeStream(label: String, urgent: Bool, pool: WorkerPool) throws(CUDAError) -> CUDAStream {
        try makeCurrent()
        let priority = urgent ? priorityRange.greatest : priorityRange.least
        var stream: CUstream?
        try driver.check(driver.api.pointee.cuStreamCreateWithPriority(&stream, UInt32(PX_CU_STREAM_NON_BLOCKING), priority),
                         "cuStreamCreateWithPriority")
        return CUDAStream(device: self, handle: stream!, label: label, priority: priority, pool: pool)
    }

    /// Device memory (cuMemAlloc).
    func allocate(bytes: UInt64) throws(CUDAError) -> UInt64 {
        try makeCurrent()
        var pointer: CUdeviceptr = 0
        try driver.check(driver.api.pointee.cuMemAlloc(&pointer, Int(bytes)), "cuMemAlloc(\(bytes) bytes)")
        return pointer
    }

    func free(device pointer: UInt64) {
        _ = try? makeCurrent()
        _ = driver.api.pointee.cuMemFree(pointer)
    }

    /// Page-locked host memory, visible to every context (fast DMA for evict/restore and uploads).
    func allocatePinned(bytes: UInt64) throws(CUDAError) -> UnsafeMutableRawPointer {
        try makeCurrent()
        var pointer: UnsafeMutableRawPointer?
        try driver.check(driver.api.pointee.cuMemHostAlloc(&pointer, Int(bytes), UInt32(PX_CU_MEMHOSTALLOC_PORTABLE)),
                         "cuMemHostAlloc(\(bytes) bytes)")
        return pointer!
    }

    func free(pinned pointer: UnsafeMutableRawPointer) {
        _ = try? makeCurrent()
        _ = driver.api.pointee.cuMemFreeHost(pointer)
    }

    /// (free, total) device memory in bytes.
    public func memoryInfo() throws(CUDAError) -> (free: UInt64, total: UInt64) {
        try makeCurrent()
        var free = 0, total = 0
        try driver.check(driver.api.pointee.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (UInt64(free), UInt64(total))
    }
}
