/// Benchmarks of the scheduler on two real models served by one engine (never timed tests):
/// switch cost between resident models, and what a long job of one model adds to another model's inter-token
/// latency.
public struct SchedulerBenchmark: Sendable {
    public let service: GenerationService
    /// A chat model (interactive stream) and a second model (the long job), both loaded in `service`.
    public let chatModel: String
    public let jobModel: String
    public let tokens: Int

    public init(service: GenerationService, chatModel: String, jobModel: String, tokens: Int = 64) {
        self.service = service
        self.chatModel = chatModel
        self.jobModel = jobModel
        self.tokens = tokens
    }

    /// Arrival times of each output event of one generation (seconds on the monotonic clock).
    static func timestamps(_ handle: GenerationHandle) async -> [Double] {
        var times: [Double] = []
        for await event in handle.events {
            if case .text = event { times.append(MonotonicClock.seconds()) }
        }
        return times
    }

    func chat(_ text: String) -> GenerationRequest {
        var request = GenerationRequest(model: chatModel, prompt: .chat([.user(text)]))
        request.maxTokens = tokens
        request.temperature = 0
        request.ignoreEOS = true
        return request
    }

    func longJob() -> GenerationRequest {
        let words = (0..<1400).map { ["river", "stone", "light", "north", "field", "glass", "cloud"][$0 % 7] }.joined(separator: " ")
        var request = GenerationRequest(model: jobModel, prompt: .text(words))
        request.maxTokens = tokens
        request.temperature = 0
        request.ignoreEOS = true
        request.priority = .batch
        return request
    }

    public func run() async throws(ServiceError) -> [BenchResult] {
        let trace = service.traceSteps()
        // (a) Two resident models decoding at once: the engine alternates; the host time between a step of one
        // and a step of the other is the switch cost.
        var other = GenerationRequest(model: jobModel, prompt: .text("Once upon a time"))
        other.maxTokens = tokens
        other.ignoreEOS = true
        let a = try service.generate(chat("Tell me about the sea.")), b = try service.generate(other)
        _ = await (Self.timestamps(a), Self.timestamps(b))
        let switches = trace.switchGaps, same = trace.sameModelGaps
        // (c) An interactive stream alone, then with a long job of the other model on the same engine, then alone
        // again: the two alone runs bracket the shared one, so a machine that drifts (shared, noisy) cancels out.
        let before = Self.gaps(await Self.timestamps(try service.generate(chat("Tell me about the sea."))))
        let job = try service.generate(longJob())
        let stream = try service.generate(chat("Tell me about the sea."))
        let streamTimes = await Self.timestamps(stream)
        let shared = Self.gaps(streamTimes)
        // Where the stream's time went: the job's steps inside it, and the chat's own steps there.
        let window = (streamTimes.first ?? 0)...(streamTimes.last ?? 0)
        let inside = trace.all.filter { window.contains($0.start) }
        let jobSteps = inside.filter { $0.model == jobModel }, chatSteps = inside.filter { $0.model == chatModel }
        let jobSeconds = jobSteps.reduce(0) { $0 + $1.end - $1.start }
        let chatStepMean = Self.mean(chatSteps.map { $0.end - $0.start })
        _ = await Self.timestamps(job)
        // The long job's prefill steps (16+ tokens; the other requests of the job model are short): what slicing
        // costs its throughput.
        let jobPrefill = trace.all.filter { $0.model == jobModel && $0.tokens >= 16 }
        let prefillRate = Double(jobPrefill.reduce(0) { $0 + $1.tokens }) / max(jobPrefill.reduce(0) { $0 + $1.end - $1.start }, 1e-9)
        let alone = before + Self.gaps(await Self.timestamps(try service.generate(chat("Tell me about the sea."))))
        let added = (Self.mean(shared) / Self.mean(alone) - 1) * 100
        let addedP99 = (Self.percentile(shared, 99) / Self.percentile(alone, 99) - 1) * 100
        return [
            BenchResult(name: "switch cost between resident models p50", value: Self.percentile(switches, 50) * 1e6, unit: "us",
                        note: "\(switches.count) switches; same-model gap p50 \(FixedPoint.format(Self.percentile(same, 50) * 1e6, 1)) us"),
            BenchResult(name: "switch cost between resident models p99", value: Self.percentile(switches, 99) * 1e6, unit: "us",
                        note: "goal under 1000 us"),
            BenchResult(name: "inter-token latency alone (before and after), mean", value: Self.mean(alone) * 1e3, unit: "ms",
                        note: "p99 \(FixedPoint.format(Self.percentile(alone, 99) * 1e3, 2)) ms"),
            BenchResult(name: "inter-token latency beside a long job, mean", value: Self.mean(shared) * 1e3, unit: "ms",
                        note: "p99 \(FixedPoint.format(Self.percentile(shared, 99) * 1e3, 2)) ms; the job: a 1400-word prompt + \(tokens) tokens of \(jobModel), batch priority"),
            BenchResult(name: "added inter-token latency, mean", value: added, unit: "%", note: "goal at most 15%; p99 +\(FixedPoint.format(addedP99, 1))%"),
            BenchResult(name: "job's prefill rate in its steps", value: prefillRate, unit: "tok/s",
                        note: "\(jobPrefill.count) prefill steps, \(jobPrefill.reduce(0) { $0 + $1.tokens }) tokens; slices cost throughput as they shrink"),
            BenchResult(name: "job's share of the stream's time", value: jobSeconds / max(window.upperBound - window.lowerBound, 1e-9) * 100,
                        unit: "%", note: "\(jobSteps.count) job steps, longest \(FixedPoint.format((jobSteps.map { $0.end - $0.start }.max() ?? 0) * 1e3, 1)) ms; chat steps there \(FixedPoint.format(chatStepMean * 1e3, 2)) ms mean"),
        ]
    }

    static func gaps(_ times: [Double]) -> [Double] { zip(times, times.dropFirst()).map { $1 - $0 } }
    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(p / 100 * Double(sorted.count)))]
    }
}
