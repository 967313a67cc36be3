/// Same-shape batching of denoise steps (never a timed test): the same image requests run one at a time, then all
/// submitted at once so the scheduler batches them; images per second and device time per image of each, and the
/// items per step the batched run reached.
public struct ImageBenchmark: Sendable {
    public let service: GenerationService
    public let model: String
    public let requests: Int
    public let size: Int
    public let steps: Int
    public let rounds: Int

    public init(service: GenerationService, model: String, requests: Int = 8, size: Int = 8, steps: Int = 25, rounds: Int = 3) {
        self.service = service
        self.model = model
        self.requests = requests
        self.size = size
        self.steps = steps
        self.rounds = rounds
    }

    func request(_ index: Int) -> ImageGenerationRequest {
        var request = ImageGenerationRequest(model: model, prompt: "a handwritten \(index % 10)")
        (request.width, request.height) = (size, size)
        request.steps = steps
        request.seed = UInt64(index + 1)
        return request
    }

    /// Waits for `handle`'s end; throws its failure.
    func finish(_ handle: GenerationHandle) async throws(ServiceError) {
        for await event in handle.events { if case .failed(let error) = event { throw error } }
    }

    /// Wall seconds and device seconds of the requests, one at a time or all at once.
    func run(together: Bool) async throws(ServiceError) -> (wall: Double, device: Double) {
        let device = service.metrics.deviceSeconds(model: model)
        let start = MonotonicClock.seconds()
        if together {
            var handles: [GenerationHandle] = []
            for index in 0..<requests { handles.append(try service.generateImages(request(index))) }
            for handle in handles { try await finish(handle) }
        } else {
            for index in 0..<requests { try await finish(try service.generateImages(request(index))) }
        }
        return (MonotonicClock.seconds() - start, service.metrics.deviceSeconds(model: model) - device)
    }

    public func run() async throws(ServiceError) -> [BenchResult] {
        try await finish(try service.generateImages(request(0)))   // warm-up: the cost estimate learns a first step
        var alone: [(wall: Double, device: Double)] = [], batched: [(wall: Double, device: Double)] = []
        var items: [Int] = []
        for _ in 0..<rounds {
            alone.append(try await run(together: false))
            let trace = service.traceSteps()
            batched.append(try await run(together: true))
            items += trace.all.filter { $0.model == model }.map(\.items)
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let perSecond = { (runs: [(wall: Double, device: Double)]) in median(runs.map { Double(self.requests) / $0.wall }) }
        let devicePerImage = { (runs: [(wall: Double, device: Double)]) in median(runs.map { $0.device / Double(self.requests) }) * 1e3 }
        let meanItems = items.isEmpty ? 0 : Double(items.reduce(0, +)) / Double(items.count)
        return [
            BenchResult(name: "images/s, \(requests) requests at once (batched)", value: perSecond(batched), unit: "images/s",
                        peerName: "one at a time", peerValue: perSecond(alone),
                        note: "\(size)x\(size), \(steps) steps; median of \(rounds)"),
            BenchResult(name: "device time per image, batched", value: devicePerImage(batched), unit: "ms", peerName: "one at a time",
                        peerValue: devicePerImage(alone)),
            BenchResult(name: "items per step, batched", value: meanItems, unit: "", note: "mean over \(items.count) steps; most \(items.max() ?? 0)"),
        ]
    }
}
