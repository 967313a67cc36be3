import Synchronization

/// Makes room in the weight budget for an allocation of `bytes` named `label`, or throws why it cannot.
typealias WeightGate = @Sendable (_ bytes: UInt64, _ label: String) throws(ServiceFailure) -> Void

/// The owner of a plugin's or a model's host allocations (px_scope). Tracks what is live so that leaks are named.
public final class HostScope: Sendable {
    /// Who owns the scope, for logs: "plugin org.plexus.llm" or "model smollm2".
    public let name: String
    /// The GPU the scope's device memory comes from; nil when its device is the CPU.
    public let device: CUDADevice?
    /// Asked before each PX_RESIDENCY_WEIGHTS allocation of the scope (bytes, label): blocks until the weight budget
    /// has room, or throws why it never will. Nil when no budget applies.
    let admitWeights: WeightGate?
    private let live = Mutex<[ObjectIdentifier: String]>([:])

    init(name: String, device: CUDADevice? = nil, admitWeights: WeightGate? = nil) {
        self.name = name
        self.device = device
        self.admitWeights = admitWeights
    }

    /// Records a live object with a description such as "buffer 'kv' (4096 bytes, KV)".
    func retain(_ object: AnyObject, as description: String) {
        live.withLock { $0[ObjectIdentifier(object)] = description }
    }

    /// Records that an object was released.
    func release(_ object: AnyObject) {
        _ = live.withLock { $0.removeValue(forKey: ObjectIdentifier(object)) }
    }

    /// Descriptions of everything still live in this scope, sorted.
    public func liveObjects() -> [String] {
        live.withLock { Array($0.values) }.sorted()
    }
}
