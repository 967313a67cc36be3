/// Preemption under KV pressure, kept KV against recompute (never a timed test): the same model loaded twice with a
/// KV arena of one context, one copy saving a preempted sequence's KV in host memory (ABI 1.2 page moves), the other
/// recomputing it from position 0; the same burst of long generations through each, in turns.
public struct PreemptionBenchmark: Sendable {
    public let service: GenerationService
    /// The copy that saves KV and the copy that recomputes.
    public let saving: String
    public let recomputing: String
    public let sequences: Int
    public let tokens: Int
    public let rounds: Int

    public init(service: GenerationService, saving: String, recomputing: String, sequences: Int = 4, tokens: Int = 200, rounds: Int = 2) {
        self.service = service
        self.saving = saving
        self.recomputing = recomputing
        self.sequences = sequences
        self.tokens = tokens
        self.rounds = rounds
    }

    /// Wall seconds for `sequences` generations of `tokens` after a 400-word prompt, all submitted at once.
    func burst(_ model: String) async throws(ServiceError) -> Double {
        let words = ["river", "stone", "light", "north", "field", "glass", "cloud"]
        var handles: [GenerationHandle] = []
        let start = MonotonicClock.seconds()
        for index in 0..<sequences {
            let text = (0..<400).map { words[($0 + index) % words.count] }.joined(separator: " ")
            var request = GenerationRequest(model: model, prompt: .text(text))
            request.maxTokens = tokens
            request.temperature = 0
            request.ignoreEOS = true
            handles.append(try service.generate(request))
        }
        for handle in handles {
            for await event in handle.events { if case .failed(let error) = event { throw error } }
        }
        return MonotonicClock.seconds() - start
    }

    public func run() async throws(ServiceError) -> [BenchResult] {
        var saved: [Double] = [], recomputed: [Double] = []
        for _ in 0..<rounds {
            saved.append(try await burst(saving))
            recomputed.append(try await burst(recomputing))
        }
        let (a, b) = (service.metrics.preemptions(model: saving), service.metrics.preemptions(model: recomputing))
        let (deviceA, deviceB) = (service.metrics.deviceSeconds(model: saving), service.metrics.deviceSeconds(model: recomputing))
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        return [
            BenchResult(name: "burst wall time, KV kept in host memory", value: median(saved), unit: "s", peerName: "recompute",
                        peerValue: median(recomputed),
                        note: "\(sequences) x (400-word prompt + \(tokens) tokens) in one context's arena; median of \(rounds)"),
            BenchResult(name: "device time, KV kept", value: deviceA, unit: "s", peerName: "recompute", peerValue: deviceB,
                        note: "all rounds"),
            BenchResult(name: "preemptions, KV kept", value: Double(a.total), unit: "", peerName: "recompute", peerValue: Double(b.total),
                        note: "\(a.saved) saved to host memory"),
        ]
    }
}
