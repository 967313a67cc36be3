import HostCore
import Synchronization

/// A test double of the scheduler: it answers each `generate` with what the test's script says (a fixed event
/// list, a thrown error, or a live stream the test drives) and records every request and cancellation.
final class ScriptedModelService: ModelService, Sendable {
    /// How one generation behaves.
    enum Reply: Sendable {
        /// These events, handed out one per `next()` (so the consumed count shows back-pressure).
        case events([GenerationEvent])
        /// Thrown by `generate`.
        case error(ServiceError)
        /// A stream the test feeds through `generations[i].continuation`.
        case live
    }

    /// One started generation.
    final class Generation: Sendable {
        let request: GenerationRequest
        let continuation: AsyncStream<GenerationEvent>.Continuation
        private let state = Mutex((cancelled: false, consumed: 0))

        init(request: GenerationRequest, continuation: AsyncStream<GenerationEvent>.Continuation) {
            self.request = request
            self.continuation = continuation
        }

        var cancelled: Bool { state.withLock { $0.cancelled } }
        var consumed: Int { state.withLock { $0.consumed } }
        func markCancelled() { state.withLock { $0.cancelled = true } }
        func markConsumed() { state.withLock { $0.consumed += 1 } }
    }

    private let served: Mutex<[ServedModel]>
    private let script: @Sendable (GenerationRequest) -> Reply
    /// What image generations answer (nil: the service has no image model).
    private let imageScript: (@Sendable (ImageGenerationRequest) -> [GenerationEvent])?
    /// Every image request, in order.
    let imageRequests = Mutex<[ImageGenerationRequest]>([])
    private let started = Mutex<[Generation]>([])
    private let nextID = Atomic<UInt64>(1)

    init(models: [ServedModel] = [.chatModel()], script: @escaping @Sendable (GenerationRequest) -> Reply,
         images: (@Sendable (ImageGenerationRequest) -> [GenerationEvent])? = nil) {
        served = Mutex(models)
        self.script = script
        imageScript = images
    }

    func generateImages(_ request: ImageGenerationRequest) throws(ServiceError) -> GenerationHandle {
        guard let imageScript else { throw ServiceError(.unsupported, "no image model is served", param: "model") }
        imageRequests.withLock { $0.append(request) }
        let events = imageScript(request)
        let stream = AsyncStream<GenerationEvent> { continuation in
            events.forEach { continuation.yield($0) }
            continuation.finish()
        }
        return GenerationHandle(id: nextID.add(1, ordering: .relaxed).oldValue, events: stream) {}
    }

    var generations: [Generation] { started.withLock { $0 } }

    func setModels(_ models: [ServedModel]) { served.withLock { $0 = models } }

    func models() -> [ServedModel] { served.withLock { $0 } }

    func metricsText() -> String { "plexus_scripted_requests_total 7" }

    func generate(_ request: GenerationRequest) throws(ServiceError) -> GenerationHandle {
        let reply = script(request)
        if case .error(let error) = reply { throw error }
        let (live, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let generation = Generation(request: request, continuation: continuation)
        started.withLock { $0.append(generation) }
        let id = nextID.add(1, ordering: .relaxed).oldValue
        switch reply {
        case .events(let events):
            let queue = Mutex(events[...])
            let stream = AsyncStream<GenerationEvent> {
                if generation.cancelled {
                    let finished = queue.withLock { queue -> Bool in defer { queue = [] }; return queue.isEmpty }
                    return finished ? nil : .finished(.cancelled, Usage(promptTokens: 1, completionTokens: 0))
                }
                guard let event = queue.withLock({ $0.popFirst() }) else { return nil }
                generation.markConsumed()
                return event
            }
            return GenerationHandle(id: id, events: stream) { generation.markCancelled() }
        default:
            return GenerationHandle(id: id, events: live) {
                generation.markCancelled()
                continuation.yield(.finished(.cancelled, Usage(promptTokens: 1, completionTokens: 0)))
                continuation.finish()
            }
        }
    }

    /// Waits (polling briefly) until `count` generations have started.
    func waitForGenerations(_ count: Int) async throws -> [Generation] {
        try await waitUntil { self.generations.count >= count }
        return generations
    }
}

/// Polls `condition` every 5 ms for up to `seconds`; throws when it never holds. The limit is generous on purpose:
/// a condition that holds passes at once, and CI runs every suite at once on two cores, where the cooperative
/// thread pool has been seen busy for 30 s while heavy model tests ran beside these.
func waitUntil(seconds: Double = 120, _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("condition not met within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ServedModel {
    static func imageModel(id: String = "digits") -> ServedModel {
        ServedModel(id: id, status: .ready, capabilities: [.image], created: 1_700_000_000, contextLength: 0)
    }

    static func chatModel(id: String = "org/chat-1", status: Status = .ready) -> ServedModel {
        ServedModel(id: id, aliases: ["chat"], status: status, capabilities: [.chat, .completion], created: 1_700_000_000,
                    contextLength: 4096)
    }
}

/// A short reply: started, two pieces of text, finished.
func helloEvents(finish: FinishReason = .stop, logprob: Float = -0.5) -> [GenerationEvent] {
    let hel = TokenLogprob(token: "Hel", bytes: Array("Hel".utf8), logprob: logprob,
                           top: [.init(token: "Hel", bytes: Array("Hel".utf8), logprob: logprob),
                                 .init(token: "Hi", bytes: Array("Hi".utf8), logprob: -2)])
    let lo = TokenLogprob(token: "lo", bytes: Array("lo".utf8), logprob: -0.25, top: [])
    return [.started(promptTokens: 5), .text("Hel", logprobs: [hel]), .text("lo", logprobs: [lo]),
            .finished(finish, Usage(promptTokens: 5, completionTokens: 2, deviceSeconds: 0.25))]
}
