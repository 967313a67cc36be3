/// The knobs of the HTTP API. Defaults suit a server behind the OpenAI SDK (whose pool keeps idle connections
/// for up to 60 s, so the idle timeout must be longer) and a proxy that may buffer.
public struct APIConfiguration: Sendable {
    /// How long a keep-alive connection may sit idle between requests before the server closes it.
    public var idleTimeout: Duration = .seconds(75)
    /// The largest request body accepted; larger ones get 413 (by Content-Length before reading, or as soon as
    /// the streamed body passes the limit).
    public var maxBodyBytes = 16 << 20
    /// How often an event stream that has nothing to say sends a `: ping` comment.
    public var pingInterval: Duration = .seconds(15)
    /// The most generations one request may fan out to (`n`).
    public var maxChoices = 16
    /// Browser origins allowed by CORS.
    public var allowedOrigins: CORSPolicy.Origins = .list([])
    /// API keys; when empty, the API is open. `APIServer.update(apiKeys:)` replaces them while serving.
    public var apiKeys: APIKeys = APIKeys()
    /// What `POST /admin/reload` runs (re-read the catalog, apply it, return what changed: "added", "removed",
    /// "replaced", "unchanged" model ids); nil when the server has no catalog to reload (the route answers 404).
    /// A thrown error's description is the 400 message (e.g. the catalog's validation error).
    public var reloadCatalog: (@Sendable () async throws -> [String: [String]])?

    /// The defaults.
    public init() {}
}
