import CUDAShim
import PluginABI
import Synchronization

/// A marker recorded on a stream (px_event). On the CPU a record completes at once (a plugin's CPU work runs inline
/// on the calling thread) and keeps the time; on a GPU it wraps a CUDA event created on first use.
final class HostEvent: @unchecked Sendable {
    let scope: HostScope
    private let recordedAt = Mutex<UInt64?>(nil)
    // SAFETY: created at most once under `cudaLock`, destroyed in deinit.
    private let cudaLock = Mutex<Void>(())
    private var cuda: (device: CUDADevice, event: CUevent)?
    private var cudaRecorded = false

    init(scope: HostScope) { self.scope = scope }

    deinit {
        if let cuda {
            _ = try? cuda.device.makeCurrent()
            _ = cuda.device.driver.api.pointee.cuEventDestroy(cuda.event)
        }
    }

    /// Records the current monotonic time (CPU streams).
    func recordNow() { recordedAt.withLock { $0 = MonotonicClock.nanoseconds() } }

    /// The CPU record time, or nil if never recorded on a CPU stream.
    var nanoseconds: UInt64? { recordedAt.withLock { $0 } }

    /// On the CPU every recorded event has completed: nothing to wait for.
    func waitOnHost() {}

    /// The CUDA event to record on `device`, created on first use.
    func cudaEvent(on device: CUDADevice) throws(ServiceFailure) -> CUevent {
        try cudaLock.withLock { _ throws(ServiceFailure) -> CUevent in
            if let cuda {
                guard cuda.device === device else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "event recorded on two different GPUs")
                }
                cudaRecorded = true
                return cuda.event
            }
            var event: CUevent?
            do throws(CUDAError) {
                try device.makeCurrent()
                try device.driver.check(device.driver.api.pointee.cuEventCreate(&event, UInt32(PX_CU_EVENT_DEFAULT)), "cuEventCreate")
            } catch {
                throw ServiceFailure(PX_ERR_DEVICE, error.description)
            }
            cuda = (device, event!)
            cudaRecorded = true
            return event!
        }
    }

    /// Blocks the host until the recorded CUDA event completes; returns the driver's result.
    func synchronize(_ event: CUevent) -> CUresult {
        guard let device = cudaDevice else { return 0 }
        _ = try? device.makeCurrent()
        return device.driver.api.pointee.cuEventSynchronize(event)
    }

    /// The CUDA event, if the event was recorded on a GPU stream.
    var recordedCUDAEvent: CUevent? { cudaLock.withLock { _ in cudaRecorded ? cuda?.event : nil } }

    /// Milliseconds from `start` to `end`, both recorded on the same kind of stream.
    static func elapsed(from start: HostEvent, to end: HostEvent) throws(ServiceFailure) -> Double {
        if let from = start.nanoseconds, let to = end.nanoseconds { return (Double(to) - Double(from)) / 1e6 }
        guard let a = start.recordedCUDAEvent, let b = end.recordedCUDAEvent, let device = start.cudaDevice else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "event_elapsed_ms: an event was never recorded (or the two were recorded on different devices)")
        }
        var milliseconds: Float = 0
        let result = device.driver.api.pointee.cuEventElapsedTime(&milliseconds, a, b)
        guard result == 0 else {
            throw ServiceFailure(result == Int32(PX_CUDA_ERROR_NOT_READY) ? PX_ERR_BUSY : PX_ERR_DEVICE, "cuEventElapsedTime failed (\(result))")
        }
        return Double(milliseconds)
    }

    private var cudaDevice: CUDADevice? { cudaLock.withLock { _ in cuda?.device } }
}
