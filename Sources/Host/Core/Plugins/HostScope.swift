import Synchronization

/// The owner of a plugin's or a model's host allocations (px_scope). Tracks what is live so that leaks are named.
public final class HostScope: Sendable {
    /// Who owns the scope, for logs: "plugin org.plexus.llm" or "model smollm2".
    public let name: String
    /// The GPU the scope's device memory comes from; nil when its device is the CPU.
    public let device: CUDADevice?
    private let live = Mutex<[ObjectIdentifier: String]>([:])

    init(name: String, device: CUDADevice? = nil) {
        self.name = name
        self.device = device
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
