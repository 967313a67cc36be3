import FoundationEssentials
import HostCore

/// What a route works with besides its request: the service, the settings, who is asking, and the set that
/// cancels the request's generations when the client goes away.
struct RequestContext: Sendable {
    var service: any ModelService
    var configuration: APIConfiguration
    var caller: Caller
    var cancellation: CancellationSet
    /// When the generations must have started (monotonic seconds), from `X-Plexus-Deadline-Ms`.
    var deadline: Double?

    /// The models this caller may see, in catalog order.
    var visibleModels: [ServedModel] {
        service.models().filter { caller.mayUse(id: $0.id, aliases: $0.aliases) }
    }

    /// The model named by id or alias, or 404 (also for a model the caller's key may not use).
    /// The model a request names, ready to serve: 404 when the caller cannot see it, 503 (retry) while it loads,
    /// 500 when it failed to load.
    func model(named name: String) throws(APIError) -> ServedModel {
        guard let model = visibleModels.first(where: { $0.id == name || $0.aliases.contains(name) }) else {
            throw .modelNotFound(name)
        }
        switch model.status {
        case .ready: return model
        case .loading: throw APIError(ServiceError(.loading, "The model '\(name)' is loading; retry shortly.", param: "model", retryAfter: 5))
        case .failed:
            throw APIError(ServiceError(.internalError, "The model '\(name)' failed to load: \(model.failure ?? "unknown reason")",
                                        param: "model", retryable: false))
        }
    }

    /// Starts `count` generations of `request` (choice i gets seed + i) and ties them to the client's connection.
    func startGenerations(_ request: GenerationRequest, count: Int) throws(APIError) -> [GenerationHandle] {
        var handles: [GenerationHandle] = []
        for index in 0..<count {
            var choice = request
            choice.seed = SamplingFields.seed(request.seed, choice: index)
            choice.apiKey = caller.key
            choice.keyWeight = caller.weight
            choice.deadline = request.deadline ?? deadline
            do {
                let handle = try service.generate(choice)
                cancellation.register(handle)
                handles.append(handle)
            } catch {
                handles.forEach { $0.cancel() }
                throw APIError(error)
            }
        }
        return handles
    }
}

/// Response ids and timestamps.
enum ResponseID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// `prefix-` (or another separator) and 24 random letters and digits, like OpenAI's ids.
    static func make(_ prefix: String, separator: String = "-") -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + separator + String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// Now, in Unix seconds.
    static var now: Int { Int(Date().timeIntervalSince1970) }
}
