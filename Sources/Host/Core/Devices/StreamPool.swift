import Synchronization

/// The host's fixed set of streams on one device, by priority class, created once and shared by every model:
/// interactive work (decode steps) on the most urgent streams, batch work (long denoise steps, prefill) on normal
/// ones, and weight moves on their own transfer streams so they overlap compute.
public final class StreamPool: Sendable {
    /// What a stream is used for.
    public enum Lane: Sendable, CaseIterable {
        case interactive, batch, transfer
    }

    private let lanes: [Lane: [DeviceStream]]
    private let cursors = Mutex<[Lane: Int]>([:])

    init(lanes: [Lane: [DeviceStream]]) {
        precondition(Lane.allCases.allSatisfy { !(lanes[$0] ?? []).isEmpty }, "every lane needs a stream")
        self.lanes = lanes
    }

    /// CPU lanes: one stream per class and a second transfer lane (copies are pipelined over two).
    public static func cpu(_ device: CPUDevice) -> StreamPool {
        StreamPool(lanes: [
            .interactive: [device.makeStream(label: "cpu interactive")],
            .batch: [device.makeStream(label: "cpu batch")],
            .transfer: [device.makeStream(label: "cpu transfer 0"), device.makeStream(label: "cpu transfer 1")],
        ])
    }

    /// GPU streams: two at the device's most urgent priority, four at the least, and four for transfers.
    public static func cuda(_ device: CUDADevice, pool: WorkerPool) throws(CUDAError) -> StreamPool {
        func make(_ label: String, _ count: Int, urgent: Bool) throws(CUDAError) -> [DeviceStream] {
            try (0..<count).map { (index: Int) throws(CUDAError) -> DeviceStream in
                try device.makeStream(label: "cuda:\(device.ordinal) \(label) \(index)", urgent: urgent, pool: pool)
            }
        }
        return StreamPool(lanes: [
            .interactive: try make("interactive", 2, urgent: true),
            .batch: try make("batch", 4, urgent: false),
            .transfer: try make("transfer", 4, urgent: false),
        ])
    }

    /// Every stream of a class.
    public func streams(_ lane: Lane) -> [DeviceStream] { lanes[lane] ?? [] }

    /// The next stream of a class, round-robin.
    public func next(_ lane: Lane) -> DeviceStream {
        let list = streams(lane)
        let index = cursors.withLock { cursors -> Int in
            defer { cursors[lane, default: 0] += 1 }
            return cursors[lane, default: 0]
        }
        return list[index % list.count]
    }
}
