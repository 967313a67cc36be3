/// The models a host serves and who may use them: what `plexus serve --catalog FILE` reads (Specs/catalog.md).
public struct Catalog: Sendable {
    /// One model entry.
    public struct Model: Sendable {
        public var id: String
        public var aliases: [String] = []
        /// A plugin id (descriptor id, e.g. "org.plexus.llm") that must claim the weights; nil = whichever claims.
        public var plugin: String?
        public var weights: [String]
        /// Plugin options, as strings.
        public var options: [(String, String)] = []
        /// "auto", "cpu", "cuda" or "cuda:N".
        public var device = "auto"
        public var residency: Residency = .evictable
        public var priority: GenerationRequest.Priority = .interactive
        public var maxBatch: Int?
        public var maxWaiting = 256
        public var kvMiB: UInt64 = 256
        /// Share of the device relative to other models.
        public var weight = 1.0
        /// How long one prefill slice may hold the stream while another sequence waits for a token (nil: default).
        public var sliceMs: Int?
    }

    /// Whether a model's weights may leave the device when another model needs room.
    public enum Residency: String, Sendable {
        case resident = "always_resident"
        case evictable
    }

    /// One API key and the models it may use (nil = all).
    public struct Key: Sendable {
        public var key: String
        public var models: Set<String>?
        /// May call /admin routes (POST /admin/reload).
        public var admin = false
        /// The key's share of the device against other keys (fair share per key; 1 by default).
        public var weight = 1.0
    }

    public var models: [Model] = []
    public var keys: [Key] = []
    public var host: String?
    public var port: Int?
    public var corsOrigins: [String] = []
    /// Memory the models' weights share, in MiB (nil: no limit).
    public var weightsMiB: UInt64?

    /// An empty catalog (models come from the command line).
    public init() {}

    /// The spec the engine loads for `model`.
    public func spec(_ model: Model) -> ServedModelSpec {
        var spec = ServedModelSpec(id: model.id, paths: model.weights)
        spec.aliases = model.aliases
        spec.options = model.options + (model.maxBatch.map { [("max_batch_items", String($0))] } ?? [])
        spec.weight = model.weight
        spec.maxWaiting = model.maxWaiting
        spec.kvBytes = model.kvMiB << 20
        spec.alwaysResident = model.residency == .resident
        spec.priority = model.priority
        if let sliceMs = model.sliceMs { spec.sliceSeconds = Double(sliceMs) / 1000 }
        return spec
    }
}
