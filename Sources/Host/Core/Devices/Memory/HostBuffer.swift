import Glibc
import PluginABI

/// One allocation from a host memory pool (px_buffer): host, pinned host, device memory or a read-only file mapping.
final class HostBuffer: @unchecked Sendable {
    /// How the bytes were obtained, and so how they are returned.
    enum Backing {
        case heap
        case mapping(length: Int)
        case pinned(CUDADevice)
        case device(CUDADevice, address: UInt64)
    }

    let scope: HostScope
    let label: String
    let memory: UInt32
    let residency: UInt32
    let bytes: UInt64
    // SAFETY: `base` is owned by this object alone and released in deinit; plugins only see it through
    // mem_address, valid during one call.
    private let base: UnsafeMutableRawPointer?
    private let backing: Backing
    private let dataOffset: Int

    init(scope: HostScope, label: String, memory: UInt32, residency: UInt32, bytes: UInt64,
         base: UnsafeMutableRawPointer?, backing: Backing, dataOffset: Int = 0) {
        self.scope = scope
        self.label = label
        self.memory = memory
        self.residency = residency
        self.bytes = bytes
        self.base = base
        self.backing = backing
        self.dataOffset = dataOffset
    }

    deinit {
        switch backing {
        case .heap: free(base)
        case .mapping(let length): munmap(base, length)
        case .pinned(let device): if let base { device.free(pinned: base) }
        case .device(let device, let address): device.free(device: address)
        }
    }

    /// The first usable byte in host memory (file mappings start at a page boundary below the requested offset),
    /// or nil for device memory.
    var hostAddress: UnsafeMutableRawPointer? {
        if case .device = backing { return nil }
        return base.map { $0 + dataOffset }
    }

    /// The device address (CUdeviceptr) of device memory, else nil.
    var deviceAddress: UInt64? {
        if case .device(_, let address) = backing { return address }
        return nil
    }

    /// Whether [offset, offset + count) lies inside the buffer, without overflow.
    func contains(offset: UInt64, count: UInt64) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(count)
        return !overflow && end <= bytes
    }

    /// How the scope lists this buffer while it is live.
    var summary: String {
        "buffer '\(label)' (\(bytes) bytes, \(MemoryNames.memory(memory)), \(MemoryNames.residency(residency)))"
    }
}

/// Names of memory kinds and residency classes, for logs and leak reports.
enum MemoryNames {
    static func memory(_ value: UInt32) -> String {
        switch Int(value) {
        case PX_MEMORY_HOST: return "host"
        case PX_MEMORY_PINNED_HOST: return "pinned host"
        case PX_MEMORY_DEVICE: return "device"
        case PX_MEMORY_FILE: return "file"
        default: return "memory \(value)"
        }
    }

    static func residency(_ value: UInt32) -> String {
        switch Int(value) {
        case PX_RESIDENCY_WEIGHTS: return "weights"
        case PX_RESIDENCY_KV: return "KV"
        case PX_RESIDENCY_ACTIVATIONS: return "activations"
        case PX_RESIDENCY_STAGING: return "staging"
        default: return "residency \(value)"
        }
    }
}
