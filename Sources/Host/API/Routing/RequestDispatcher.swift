import HostCore
import NIOHTTP1

/// Turns a request into a response: CORS preflight, routing, API keys, the route itself, and the single
/// conversion of any failure into OpenAI's error format.
struct RequestDispatcher: Sendable {
    let service: any ModelService
    let configuration: APIConfiguration
    let metrics = HTTPMetrics()
    /// The API keys in force (a reload replaces them).
    let keys: KeyRing
    private let cors: CORSPolicy

    init(service: any ModelService, configuration: APIConfiguration) {
        self.service = service
        self.configuration = configuration
        keys = KeyRing(configuration.apiKeys)
        cors = CORSPolicy(origins: configuration.allowedOrigins)
    }

    func respond(to request: APIRequest, cancellation: CancellationSet) async -> APIResponse {
        if request.method == .OPTIONS { return cors.preflight(request.headers) }
        var response: APIResponse
        do {
            response = try await route(request, cancellation: cancellation)
        } catch let error as APIError {
            response = .error(error)
        } catch {
            response = .error(.internalError("Unexpected error: \(error)"))
        }
        cors.decorate(&response.headers, request: request.headers)
        return response
    }

    /// The metrics label of a request: its route pattern, or "unmatched".
    func routeLabel(_ head: HTTPRequestHead) -> String {
        let path = APIRequest(method: head.method, uri: head.uri, headers: [:], body: .init()).path
        if head.method == .OPTIONS { return "preflight" }
        guard case .route(let route) = Router.match(head.method, path: path) else { return "unmatched" }
        return route.label
    }

    /// The header `X-Plexus-Deadline-Ms: N`: the request's generations must start within N ms (1...86,400,000) of
    /// now, or end with 504 deadline_exceeded without spending device time (Specs/api.md).
    static func deadline(_ headers: HTTPHeaders) throws(APIError) -> Double? {
        guard let text = headers.first(name: "x-plexus-deadline-ms") else { return nil }
        guard let milliseconds = Int(text.filter { $0 != " " }), (1...86_400_000).contains(milliseconds) else {
            throw APIError.invalid("X-Plexus-Deadline-Ms must be an integer number of milliseconds in 1...86400000", param: nil)
        }
        return MonotonicClock.seconds() + Double(milliseconds) / 1000
    }

    private func route(_ request: APIRequest, cancellation: CancellationSet) async throws -> APIResponse {
        let route: Route
        switch Router.match(request.method, path: request.path) {
        case .notFound:
            throw APIError(.notFound, "Invalid URL (\(request.method.rawValue) \(request.path)).", code: "unknown_url")
        case .methodNotAllowed(let allowed):
            var response = APIResponse.error(APIError(.methodNotAllowed,
                "Method \(request.method.rawValue) is not allowed on \(request.path).", code: "method_not_allowed"))
            response.headers.add(name: "Allow", value: allowed.map(\.rawValue).joined(separator: ", "))
            return response
        case .route(let matched):
            route = matched
        }
        let keys = self.keys.current
        if route == .adminReload {
            _ = try keys.authorizeAdmin(request.headers)
            return try await AdminReloadRoute(reload: configuration.reloadCatalog).respond()
        }
        let caller = route.needsKey ? try keys.authorize(request.headers) : Caller(key: nil, scope: .allModels)
        var context = RequestContext(service: service, configuration: configuration, caller: caller,
                                     cancellation: cancellation)
        context.deadline = try Self.deadline(request.headers)
        let unbacked = MissingBackendRoute(context: context)
        switch route {
        case .health: return HealthRoute(service: service).respond()
        case .metrics: return MetricsRoute(service: service, metrics: metrics).respond()
        case .models: return ModelsRoute(context: context).list()
        case .model(let id): return try ModelsRoute(context: context).get(id)
        case .chatCompletions: return try await ChatCompletionsRoute(context: context).respond(to: request)
        case .completions: return try await CompletionsRoute(context: context).respond(to: request)
        case .embeddings: return try unbacked.create(request, product: .embeddings)
        case .imageGenerations: return try await ImageGenerationsRoute(context: context).respond(to: request)
        case .videos where request.method == .POST: return try unbacked.create(request, product: .videos)
        case .videos: return try unbacked.listVideos()
        case .video(let id), .videoContent(let id): return try unbacked.video(id)
        case .adminReload: throw APIError.internalError("unreachable: admin routes are answered above")
        }
    }
}
