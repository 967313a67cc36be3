import PluginABI
import Synchronization

/// Released tier placements kept for reuse, by (memory kind, size, device), up to a byte capacity.
final class PlacementCache: Sendable {
    private struct Key: Hashable {
        let memory: UInt32
        let bytes: UInt64
        let device: ObjectIdentifier?
    }

    private struct Entry: @unchecked Sendable {
        let placement: HostBuffer.Placement
        let onDevice: Bool
    }

    private let capacityBytes: UInt64
    private let entries = Mutex<(byKey: [Key: [Entry]], bytes: UInt64)>(([:], 0))

    init(capacityBytes: UInt64) { self.capacityBytes = capacityBytes }

    var isEmpty: Bool { entries.withLock { $0.bytes == 0 } }

    /// A cached placement of exactly this kind, size and device, if any.
    func take(memory: UInt32, bytes: UInt64, device: CUDADevice?) -> HostBuffer.Placement? {
        let key = Key(memory: memory, bytes: bytes, device: device.map(ObjectIdentifier.init))
        return entries.withLock { state -> HostBuffer.Placement? in
            guard let entry = state.byKey[key]?.popLast() else { return nil }
            state.bytes -= bytes
            return entry.placement
        }
    }

    /// Keeps a placement if it fits under the capacity; false means the caller must release it.
    func keep(_ placement: HostBuffer.Placement, memory: UInt32, bytes: UInt64, device: CUDADevice?) -> Bool {
        guard memory != UInt32(PX_MEMORY_FILE) else { return false }
        let key = Key(memory: memory, bytes: bytes, device: device.map(ObjectIdentifier.init))
        let onDevice = placement.deviceAddress != nil
        return entries.withLock { state -> Bool in
            guard state.bytes + bytes <= capacityBytes else { return false }
            state.byKey[key, default: []].append(Entry(placement: placement, onDevice: onDevice))
            state.bytes += bytes
            return true
        }
    }

    /// Empties the cache; returns what it held with its accounting facts.
    func drain() -> [(HostBuffer.Placement, UInt32, UInt64, Bool)] {
        entries.withLock { state in
            defer { state = ([:], 0) }
            return state.byKey.flatMap { key, list in list.map { ($0.placement, key.memory, key.bytes, $0.onDevice) } }
        }
    }
}
