/// Where a command runs its model: the CPU, or one GPU by ordinal (`--device cpu|cuda|cuda:N`).
public enum DeviceChoice: Sendable, Equatable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// Parses `cpu`, `cuda` (GPU 0) or `cuda:N`; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        default:
            guard text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 else { return nil }
            self = .cuda(index)
        }
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let index): return "cuda:\(index)"
        }
    }

    /// The devices to discover for this choice: CUDA is not even opened for the CPU.
    public func discover(environment: [String: String], cpuThreads: Int?) -> DeviceSet {
        switch self {
        case .cpu: return DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: cpuThreads)
        case .cuda: return DeviceSet.discover(environment: environment, cpuThreads: cpuThreads)
        }
    }

    /// The GPU of a `.cuda` choice among `devices`, or the one-line reason there is none ("no GPU: ..."); nil for
    /// `.cpu`.
    public func gpu(in devices: DeviceSet) -> Result<CUDADevice, NoGPU>? {
        guard case .cuda(let index) = self else { return nil }
        if let problem = devices.cudaProblem, devices.gpus.isEmpty { return .failure(NoGPU(reason: problem)) }
        guard let gpu = devices.gpus.first(where: { $0.ordinal == Int32(index) }) else {
            return .failure(NoGPU(reason: "cuda:\(index) does not exist (\(devices.gpus.count) GPU(s) found)"))
        }
        return .success(gpu)
    }
}

/// Why a command asked for a GPU cannot have it.
public struct NoGPU: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "no GPU: \(reason)" }
}
