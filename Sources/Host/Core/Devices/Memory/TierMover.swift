import PluginABI

/// What one evict or restore moved, and how fast.
public struct TransferReport: Sendable, Equatable {
    public var buffers: Int
    public var bytes: UInt64
    public var seconds: Double
    /// Bytes per second over the whole move (0 when nothing moved).
    public var bandwidth: Double { seconds > 0 ? Double(bytes) / seconds : 0 }
}

/// Moves a model's weight buffers between device memory and pinned host memory: chunked copies dealt round-robin
/// over two or more streams so that they overlap, buffers in allocation order (layer order) so that each one's
/// arrival can be awaited on its own. Handles stay the same; plugins see the new addresses at their next call.
///
/// On a host without a GPU, "device" and "pinned" are both host memory: the same code then moves bytes between
/// heap allocations on CPU stream lanes (what the tests exercise); on a GPU the copies are cuMemcpy*Async.
struct TierMover {
    /// Default chunk: large enough to reach link bandwidth, small enough to spread over streams.
    static let defaultChunkBytes: UInt64 = 8 << 20

    let memory: HostMemory
    let streams: [DeviceStream]
    let chunkBytes: UInt64

    init(memory: HostMemory, streams: [DeviceStream], chunkBytes: UInt64 = TierMover.defaultChunkBytes) {
        precondition(!streams.isEmpty && chunkBytes > 0, "a tier move needs streams and a chunk size")
        self.memory = memory
        self.streams = streams
        self.chunkBytes = chunkBytes
    }

    /// Parks every resident weight buffer in pinned host memory and frees its device memory. File mappings stay:
    /// the OS already pages them from the file.
    func evict(_ buffers: [HostBuffer]) throws(ServiceFailure) -> TransferReport {
        let movable = buffers.filter {
            $0.residency == UInt32(PX_RESIDENCY_WEIGHTS) && $0.memory != UInt32(PX_MEMORY_FILE) && !$0.isParked
        }
        return try begin(movable, parked: true).finish()
    }

    /// Brings every parked buffer back into the memory kind it was allocated with, waiting for all of it.
    func restore(_ buffers: [HostBuffer]) throws(ServiceFailure) -> TransferReport {
        try beginRestore(buffers).finish()
    }

    /// Starts bringing parked buffers back and returns at once: each buffer settles (waits for its own chunks)
    /// the first time anything asks where it is, so computing can begin on the first layers while the rest copy.
    func beginRestore(_ buffers: [HostBuffer]) throws(ServiceFailure) -> TransferInFlight {
        try begin(buffers.filter { $0.isParked }, parked: false)
    }

    private func begin(_ buffers: [HostBuffer], parked: Bool) throws(ServiceFailure) -> TransferInFlight {
        let started = MonotonicClock.nanoseconds()
        var placements: [HostBuffer.Placement] = []
        do {
            for buffer in buffers {
                let kind = parked ? UInt32(PX_MEMORY_PINNED_HOST) : buffer.memory
                placements.append(try memory.reusePlacement(bytes: buffer.bytes, memory: kind, device: buffer.scope.device,
                                                            label: buffer.label))
            }
        } catch {
            for placement in placements { placement.release() }
            throw error
        }
        var next = 0
        for (buffer, placement) in zip(buffers, placements) {
            let (oldKind, oldOnDevice) = parked ? (buffer.memory, buffer.deviceAddress != nil) : (UInt32(PX_MEMORY_PINNED_HOST), false)
            let used = try copyChunks(of: buffer, to: placement.address, startingAt: &next)
            let markers = try used.map { stream throws(ServiceFailure) in try stream.marker() }
            let (memory, bytes, device) = (self.memory, buffer.bytes, buffer.scope.device)
            buffer.beginMove(HostBuffer.PendingMove(marker: StreamMarker { markers.forEach { $0.wait() } }, placement: placement,
                                                    parked: parked) { old in
                memory.recycle(old, bytes: bytes, memory: oldKind, onDevice: oldOnDevice, device: device)
            })
        }
        return TransferInFlight(buffers: buffers, started: started)
    }

    /// Enqueues one buffer's copy as chunks, dealing them to the streams round-robin from `next`; returns the
    /// streams it used.
    private func copyChunks(of buffer: HostBuffer, to target: MemoryAddress,
                            startingAt next: inout Int) throws(ServiceFailure) -> [DeviceStream] {
        let source = buffer.address
        var offset: UInt64 = 0
        var used: [ObjectIdentifier: DeviceStream] = [:]
        while offset < buffer.bytes {
            let count = min(chunkBytes, buffer.bytes - offset)
            let stream = streams[next % streams.count]
            try stream.enqueueCopy(to: target.advanced(by: offset), from: source.advanced(by: offset), bytes: count)
            used[ObjectIdentifier(stream)] = stream
            next += 1
            offset += count
        }
        return Array(used.values)
    }
}

/// A tier move whose copies are enqueued; `finish` settles every buffer in order and reports.
public struct TransferInFlight: Sendable {
    let buffers: [HostBuffer]
    let started: UInt64

    /// Waits for every buffer of the move and reports it.
    public func finish() -> TransferReport {
        for buffer in buffers { buffer.settle() }
        return TransferReport(buffers: buffers.count, bytes: buffers.reduce(0) { $0 + $1.bytes },
                              seconds: Double(MonotonicClock.nanoseconds() - started) / 1e9)
    }
}
