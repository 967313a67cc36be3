import Glibc
import PluginABI
import Synchronization

/// One allocation from a host memory pool (px_buffer): host, pinned host, device memory or a read-only file mapping.
/// Its handle is stable while the memory tiers move its bytes (weights evicted to pinned host memory and restored):
/// plugins re-query the address with mem_address in every call.
final class HostBuffer: @unchecked Sendable {
    /// Where the bytes live now, and how they are returned when they move or the buffer is freed.
    struct Placement: @unchecked Sendable {
        enum Backing {
            case heap
            case mapping(length: Int)
            case pinned(CUDADevice)
            case device(CUDADevice, address: UInt64)
        }

        // SAFETY: `base` is owned by the placement's buffer alone and released by `release()`.
        var base: UnsafeMutableRawPointer?
        var backing: Backing
        var dataOffset = 0

        /// Host address of the first usable byte, or nil for device memory.
        var hostAddress: UnsafeMutableRawPointer? {
            if case .device = backing { return nil }
            return base.map { $0 + dataOffset }
        }

        var deviceAddress: UInt64? {
            if case .device(_, let address) = backing { return address }
            return nil
        }

        /// The raw location for copies.
        var address: MemoryAddress {
            if let device = deviceAddress { return .device(device) }
            return .host(hostAddress!)
        }

        func release() {
            switch backing {
            case .heap: free(base)
            case .mapping(let length): munmap(base, length)
            case .pinned(let device): if let base { device.free(pinned: base) }
            case .device(let device, let address): device.free(device: address)
            }
        }
    }

    let scope: HostScope
    let label: String
    /// Allocation order within the process (layers are allocated in order: the tiers move them in this order).
    let serial: UInt64
    /// The memory kind the plugin allocated (where the bytes are whenever the plugin runs).
    let memory: UInt32
    let residency: UInt32
    let bytes: UInt64
    private let placement: Mutex<Placement>
    /// Whether the bytes are parked in another tier (evicted); plugins never run while they are.
    private let parked = Atomic<Bool>(false)
    /// A move in flight: the copies' completion marker, where the bytes are going, and what to do with the old place.
    private let pendingMove = Mutex<PendingMove?>(nil)

    struct PendingMove: @unchecked Sendable {
        let marker: StreamMarker
        let placement: Placement
        let parked: Bool
        let recycle: (Placement) -> Void
    }

    init(scope: HostScope, label: String, memory: UInt32, residency: UInt32, bytes: UInt64,
         base: UnsafeMutableRawPointer?, backing: Placement.Backing, dataOffset: Int = 0) {
        self.scope = scope
        self.label = label
        self.serial = HostBuffer.nextSerial.add(1, ordering: .relaxed).newValue
        self.memory = memory
        self.residency = residency
        self.bytes = bytes
        self.placement = Mutex(Placement(base: base, backing: backing, dataOffset: dataOffset))
    }

    deinit { placement.withLock { $0.release() } }

    private static let nextSerial = Atomic<UInt64>(0)

    /// Where the bytes are. A buffer whose move is in flight is settled first: this waits for its own copies only,
    /// so a model can compute on the layers that have arrived while later ones are still copying.
    var hostAddress: UnsafeMutableRawPointer? { settle(); return placement.withLock { $0.hostAddress } }
    var deviceAddress: UInt64? { settle(); return placement.withLock { $0.deviceAddress } }
    var address: MemoryAddress { settle(); return placement.withLock { $0.address } }
    var isParked: Bool { settle(); return parked.load(ordering: .acquiring) }

    /// Records a move whose copies were enqueued; the swap happens at the first `settle`.
    func beginMove(_ move: PendingMove) {
        pendingMove.withLock { $0 = move }
    }

    /// Completes a move in flight: waits for its copies, then swaps the placement. Returns whether one was pending.
    @discardableResult
    func settle() -> Bool {
        guard let move = pendingMove.withLock({ pending -> PendingMove? in
            defer { pending = nil }
            return pending
        }) else { return false }
        move.marker.wait()
        move.recycle(self.move(to: move.placement, parked: move.parked))
        return true
    }

    /// Swaps in a new placement (after its bytes were copied there); returns the old one to the caller, who
    /// releases or recycles it.
    func move(to newPlacement: Placement, parked isParked: Bool) -> Placement {
        let old = placement.withLock { current -> Placement in
            defer { current = newPlacement }
            return current
        }
        parked.store(isParked, ordering: .releasing)
        return old
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

/// A raw location of bytes, for copies between tiers.
enum MemoryAddress: @unchecked Sendable {
    case host(UnsafeMutableRawPointer)
    case device(UInt64)

    func advanced(by offset: UInt64) -> MemoryAddress {
        switch self {
        case .host(let pointer): return .host(pointer + Int(offset))
        case .device(let address): return .device(address + offset)
        }
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
