import Glibc
import PluginABI
import Synchronization

/// Pinned host memory that a CUDA stream copies mem_write's source into before enqueueing the upload: the ABI lets
/// the plugin reuse `src` as soon as mem_write returns, and a DMA from pinned memory is truly asynchronous (one from
/// pageable memory may read the source after the call returned, or stall the host). Allocated on first use.
///
/// Slots are handed out in order and reused only after the stream has passed every copy out of them: when the ring
/// is full the writer synchronizes the stream, and a host synchronization empties the ring if nothing was staged
/// while it waited.
final class StagingRing: @unchecked Sendable {
    let device: CUDADevice
    /// Bytes of pinned memory; a larger write goes through in pieces of this size.
    let capacity: Int

    // SAFETY: the three fields below are read and written only under `lock`. `base` is pinned memory owned by the
    // ring, allocated once, freed in deinit.
    private let lock = Mutex<Void>(())
    private var base: UnsafeMutableRawPointer?
    private var used = 0
    /// Slots handed out so far (a host synchronization empties the ring only if this did not move meanwhile).
    private var staged: UInt64 = 0

    init(device: CUDADevice, capacity: Int = 8 << 20) {
        self.device = device
        self.capacity = capacity
    }

    deinit {
        if let base { device.free(pinned: base) }
    }

    /// Copies `bytes` from `source` through the ring: `enqueue(slot, done, count)` enqueues the upload of `count`
    /// bytes at `done` from the pinned `slot`; `drain()` waits for the stream when the ring is full. Holds the ring's
    /// lock throughout, so a slot is never handed out twice while its copy may still be pending.
    func upload(from source: UnsafeRawPointer, bytes: Int,
                drain: () throws(ServiceFailure) -> Void,
                enqueue: (UnsafeRawPointer, Int, Int) throws(ServiceFailure) -> Void) throws(ServiceFailure) {
        try lock.withLock { _ throws(ServiceFailure) in
            if base == nil {
                do throws(CUDAError) {
                    base = try device.allocatePinned(bytes: UInt64(capacity))
                } catch {
                    throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "staging memory for mem_write: \(error.description)")
                }
            }
            var done = 0
            while done < bytes {
                let count = min(bytes - done, capacity)
                if used + count > capacity {
                    try drain()
                    used = 0
                }
                let slot = base! + used
                slot.copyMemory(from: source + done, byteCount: count)
                try enqueue(UnsafeRawPointer(slot), done, count)
                used += (count + 255) & ~255
                staged += 1
                done += count
            }
        }
    }

    /// How many slots were handed out so far: take it before a host synchronization, then `reset(ifUnchangedSince:)`.
    var mark: UInt64 { lock.withLock { _ in staged } }

    /// Empties the ring after a synchronization that began at `mark`, unless a slot was handed out meanwhile (its
    /// copy may not be covered by that synchronization).
    func reset(ifUnchangedSince mark: UInt64) {
        lock.withLock { _ in if staged == mark { used = 0 } }
    }
}
