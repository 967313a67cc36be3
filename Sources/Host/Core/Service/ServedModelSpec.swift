/// How one model is served: what the catalog (or `plexus serve --model`) says about it.
public struct ServedModelSpec: Sendable {
    public var id: String
    public var aliases: [String] = []
    /// Weight file(s) handed to the plugin.
    public var paths: [String]
    /// Plugin options (context_length, ...).
    public var options: [(String, String)] = []
    /// Share of the device relative to other models.
    public var weight: Double = 1
    /// Sequences that may wait for their first step before new requests get 429.
    public var maxWaiting = 256
    /// KV memory of the model in bytes (rounded down to whole pages; at least one full context).
    public var kvBytes: UInt64 = 256 << 20
    /// The catalog's `residency: always_resident`: the weights are never evicted to make room for another model.
    public var alwaysResident = false
    /// A preempted sequence keeps its KV in host memory when the plugin allows pages to move (ABI 1.2); false makes
    /// it recompute instead (for comparisons).
    public var savesKV = true
    /// The class of the model's requests that do not name one (`service_tier` in the API).
    public var priority = GenerationRequest.Priority.interactive
    /// How long one prefill slice of this model may hold the stream while another sequence waits for a token.
    public var sliceSeconds = ServedModelSpec.defaultSliceSeconds

    /// The slice unless the catalog says otherwise (Specs/scheduler.md says why this value).
    public static let defaultSliceSeconds = 0.018

    public init(id: String, paths: [String]) {
        self.id = id
        self.paths = paths
    }

    /// Whether `other` would serve the same model the same way (a reload keeps it running).
    func sameServing(as other: ServedModelSpec) -> Bool {
        id == other.id && aliases == other.aliases && paths == other.paths && weight == other.weight
            && maxWaiting == other.maxWaiting && kvBytes == other.kvBytes && alwaysResident == other.alwaysResident
            && sliceSeconds == other.sliceSeconds && priority == other.priority && savesKV == other.savesKV
            && options.map { "\($0.0)=\($0.1)" } == other.options.map { "\($0.0)=\($0.1)" }
    }
}
