/// What the HTTP API needs from the rest of the host: the served models, their health, and text generation.
/// The scheduler implements it for real; API tests use a test double. Everything crossing it is a plain value.
public protocol ModelService: Sendable {
    /// Every model the catalog lists, with its status (ids in catalog order).
    func models() -> [ServedModel]
    /// Starts one generation (one sequence). Throws at once for what can be known before it is queued: unknown
    /// model, a model still loading, a prompt that cannot be built, a full queue. Later failures arrive as
    /// `.failed` on the handle's events.
    func generate(_ request: GenerationRequest) throws(ServiceError) -> GenerationHandle
    /// Starts one image generation on an image model: `.image` events (one per image), then `.finished`. Throws at
    /// once as `generate` does.
    func generateImages(_ request: ImageGenerationRequest) throws(ServiceError) -> GenerationHandle
    /// The service's own metrics in Prometheus text exposition format (per model: requests, tokens, latency
    /// histograms, queue depth), without a trailing blank line.
    func metricsText() -> String
}

extension ModelService {
    /// A service without image models.
    public func generateImages(_ request: ImageGenerationRequest) throws(ServiceError) -> GenerationHandle {
        throw ServiceError(.unsupported, "no image model is served", param: "model", retryable: false)
    }
}

/// A model as the API lists it.
public struct ServedModel: Sendable, Equatable {
    /// Whether a model answers yet.
    public enum Status: String, Sendable {
        case loading, ready, failed
    }

    /// What a model can serve.
    public enum Capability: String, Sendable {
        /// Chat completions (the model has a chat template).
        case chat
        /// Text completions.
        case completion
        /// Embeddings, images, videos: named so the API can say which backend is missing.
        case embedding, image, video
    }

    public var id: String
    public var aliases: [String]
    public var status: Status
    /// Why it failed to load, when status is `.failed`.
    public var failure: String?
    public var capabilities: Set<Capability>
    /// Unix seconds when it was loaded (or listed).
    public var created: Int
    public var ownedBy: String
    /// The longest sequence (prompt + output) in tokens; 0 for non-token models.
    public var contextLength: Int

    public init(id: String, aliases: [String] = [], status: Status, failure: String? = nil,
                capabilities: Set<Capability>, created: Int, ownedBy: String = "plexus", contextLength: Int) {
        self.id = id
        self.aliases = aliases
        self.status = status
        self.failure = failure
        self.capabilities = capabilities
        self.created = created
        self.ownedBy = ownedBy
        self.contextLength = contextLength
    }
}
