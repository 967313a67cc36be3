import CUDAShim

/// The devices of this process: always the CPU, plus every GPU when libcuda, a driver and a GPU are present.
/// Discovery logs exactly one line; a host without CUDA says why and runs on the CPU.
public final class DeviceSet: Sendable {
    public let cpu: CPUDevice
    public let gpus: [CUDADevice]
    /// Why there is no GPU (nil when there is one).
    public let cudaProblem: String?
    /// The folder of the NVRTC cubin cache.
    public let kernelCacheDirectory: String

    init(cpu: CPUDevice, gpus: [CUDADevice], cudaProblem: String?, kernelCacheDirectory: String) {
        self.cpu = cpu
        self.gpus = gpus
        self.cudaProblem = cudaProblem
        self.kernelCacheDirectory = kernelCacheDirectory
    }

    /// Finds the devices. `PLEXUS_DEVICES=cpu` skips CUDA; `cpuThreads` sizes the worker pool (default: cores).
    public static func discover(environment: [String: String], cpuThreads: Int? = nil) -> DeviceSet {
        let cpu = CPUDevice(threads: cpuThreads)
        let cache = KernelCache.directory(environment: environment)
        if environment["PLEXUS_DEVICES"] == "cpu" {
            return DeviceSet(cpu: cpu, gpus: [], cudaProblem: "CUDA disabled by PLEXUS_DEVICES=cpu", kernelCacheDirectory: cache)
        }
        switch CUDADriver.load(environment: environment) {
        case .failure(let unavailable):
            return DeviceSet(cpu: cpu, gpus: [], cudaProblem: unavailable.reason, kernelCacheDirectory: cache)
        case .success(let driver):
            var count: Int32 = 0
            guard driver.api.pointee.cuDeviceGetCount(&count) == 0, count > 0 else {
                return DeviceSet(cpu: cpu, gpus: [], cudaProblem: "the CUDA driver reports no GPU", kernelCacheDirectory: cache)
            }
            var gpus: [CUDADevice] = []
            var problems: [String] = []
            for ordinal in 0..<count {
                do {
                    gpus.append(try CUDADevice(driver: driver, ordinal: ordinal, cacheDirectory: cache))
                } catch {
                    problems.append("cuda:\(ordinal): \(error.description)")
                }
            }
            return DeviceSet(cpu: cpu, gpus: gpus, cudaProblem: gpus.isEmpty ? problems.joined(separator: "; ") : nil,
                             kernelCacheDirectory: cache)
        }
    }

    /// The one line the host logs at start.
    public var summary: String {
        var parts = ["CPU (\(cpu.pool.count) worker threads)"]
        for gpu in gpus {
            let gib = FixedPoint.format(Double(gpu.totalMemory) / Double(1 << 30), 1)
            let nvrtc = gpu.driver.nvrtcVersion.map { "NVRTC \($0.major).\($0.minor)" } ?? "no NVRTC (\(gpu.driver.nvrtcProblem ?? "?"))"
            parts.append("cuda:\(gpu.ordinal) \(gpu.name) (sm_\(gpu.architecture), \(gpu.multiprocessors) SMs, \(gib) GiB, driver \(gpu.driver.driverVersion), \(nvrtc))")
        }
        var line = "devices: " + parts.joined(separator: ", ")
        if let cudaProblem { line += "; no GPU: \(cudaProblem); running on CPU" }
        return line
    }
}
