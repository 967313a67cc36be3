import Synchronization

/// Per-model serving metrics: requests by outcome, tokens, latency histograms, queue depth, KV use and device
/// time. Written by the engine thread, read by /metrics from any thread.
public final class ServingMetrics: Sendable {
    struct Model: Sendable {
        var outcomes: [String: Int] = [:]
        var promptTokens = 0
        var generatedTokens = 0
        var timeToFirstToken = LatencyHistogram()
        var interToken = LatencyHistogram()
        var endToEnd = LatencyHistogram()
        var queueDepth = 0
        var running = 0
        var kvPagesUsed = 0
        var kvPages = 0
        var deviceSeconds = 0.0
        var steps = 0
        var preemptions = 0
        var kvSaves = 0
        var weightsResident = true
        var weightEvictions = 0
        var weightRestores = 0
        var weightBytesRestored: UInt64 = 0
        var weightRestoreSeconds = 0.0
        var deviceSecondsByKey: [String: Double] = [:]
    }

    private let models = Mutex<[String: Model]>([:])
    private let order = Mutex<[String]>([])
    /// Weight bytes the engine counts against the budget (resident, moving, or reserved for a load), the most it
    /// ever counted, and the budget; nil without a budget.
    private let weights = Mutex<(held: UInt64, peak: UInt64, budget: UInt64)?>(nil)

    public init() {}

    func update(_ model: String, _ change: (inout Model) -> Void) {
        models.withLock { all in
            if all[model] == nil { order.withLock { $0.append(model) } }
            change(&all[model, default: Model()])
        }
    }

    /// What the residency policy counted against the weight budget at its latest plan.
    func recordWeights(held: UInt64, budget: UInt64) {
        weights.withLock { $0 = (held, max(held, $0?.peak ?? 0), budget) }
    }

    /// Weight bytes held against the budget now and at most so far (nil without a weight budget).
    public func weightBytes() -> (held: UInt64, peak: UInt64, budget: UInt64)? { weights.withLock { $0 } }

    /// Weight moves of `model` so far: evictions, restores, bytes restored and the seconds they took.
    public func weightMoves(model: String) -> (evictions: Int, restores: Int, bytesRestored: UInt64, restoreSeconds: Double) {
        models.withLock { all in
            let m = all[model] ?? Model()
            return (m.weightEvictions, m.weightRestores, m.weightBytesRestored, m.weightRestoreSeconds)
        }
    }

    /// Preemptions of `model`'s sequences so far, and how many of them kept their KV in host memory.
    public func preemptions(model: String) -> (total: Int, saved: Int) {
        models.withLock { ($0[model]?.preemptions ?? 0, $0[model]?.kvSaves ?? 0) }
    }

    /// Device seconds attributed to `model` so far (all keys).
    public func deviceSeconds(model: String) -> Double { models.withLock { $0[model]?.deviceSeconds ?? 0 } }

    /// Device seconds attributed to requests of one API key on `model` ("" = requests without a key).
    public func deviceSeconds(model: String, key: String) -> Double {
        models.withLock { $0[model]?.deviceSecondsByKey[key] ?? 0 }
    }

    /// The Prometheus text of every model, without a trailing blank line. Samples are grouped by metric family,
    /// as the format requires.
    public func prometheusText() -> String {
        let snapshot = models.withLock { $0 }
        let ids = order.withLock { $0 }.filter { snapshot[$0] != nil }
        var out = PrometheusText()
        out.describe("plexus_requests_total", type: "counter", help: "Finished generations by outcome.")
        for id in ids {
            let model = snapshot[id]!
            for outcome in model.outcomes.keys.sorted() {
                out.sample("plexus_requests_total", labels: [("model", id), ("outcome", outcome)], value: Double(model.outcomes[outcome]!))
            }
        }
        let values: [(String, String, String, (Model) -> Double)] = [
            ("plexus_prompt_tokens_total", "counter", "Prompt tokens consumed.", { Double($0.promptTokens) }),
            ("plexus_generation_tokens_total", "counter", "Tokens generated.", { Double($0.generatedTokens) }),
            ("plexus_queue_depth", "gauge", "Sequences waiting for their first step.", { Double($0.queueDepth) }),
            ("plexus_running_sequences", "gauge", "Sequences holding KV pages.", { Double($0.running) }),
            ("plexus_kv_pages_used", "gauge", "KV pages in use.", { Double($0.kvPagesUsed) }),
            ("plexus_kv_pages", "gauge", "KV pages in the model's arena.", { Double($0.kvPages) }),
            ("plexus_device_seconds_total", "counter", "Device time of the model's steps.", { $0.deviceSeconds }),
            ("plexus_steps_total", "counter", "Steps run.", { Double($0.steps) }),
            ("plexus_preemptions_total", "counter", "Sequences that gave their KV pages back under memory pressure.", { Double($0.preemptions) }),
            ("plexus_kv_saves_total", "counter", "Preempted sequences whose KV was kept in host memory (the others recompute).", { Double($0.kvSaves) }),
            ("plexus_weights_resident", "gauge", "1 while the model's weights are in the memory it computes from.", { $0.weightsResident ? 1 : 0 }),
            ("plexus_weight_evictions_total", "counter", "Times the model's weights were parked in host memory.", { Double($0.weightEvictions) }),
            ("plexus_weight_restores_total", "counter", "Times the model's weights were brought back (wakes).", { Double($0.weightRestores) }),
            ("plexus_weight_restore_bytes_total", "counter", "Weight bytes brought back.", { Double($0.weightBytesRestored) }),
            ("plexus_weight_restore_seconds_total", "counter", "Time spent bringing weights back.", { $0.weightRestoreSeconds }),
        ]
        for (name, type, help, value) in values {
            out.describe(name, type: type, help: help)
            for id in ids { out.sample(name, labels: [("model", id)], value: value(snapshot[id]!)) }
        }
        let histograms: [(String, String, (Model) -> LatencyHistogram)] = [
            ("plexus_time_to_first_token_seconds", "Queueing plus prefill until the first token.", { $0.timeToFirstToken }),
            ("plexus_inter_token_latency_seconds", "Time between successive tokens of a sequence.", { $0.interToken }),
            ("plexus_e2e_request_latency_seconds", "Queueing to the last token.", { $0.endToEnd }),
        ]
        for (name, help, histogram) in histograms {
            out.describe(name, type: "histogram", help: help)
            for id in ids { out.histogram(name, labels: [("model", id)], histogram(snapshot[id]!)) }
        }
        if let weights = weights.withLock({ $0 }) {
            let gauges: [(String, String, UInt64)] = [
                ("plexus_weight_budget_bytes", "The weight-memory budget (serve --weights-mib).", weights.budget),
                ("plexus_weight_bytes_held", "Weight bytes counted against the budget: resident, moving, or reserved for a load.", weights.held),
                ("plexus_weight_bytes_held_peak", "The most weight bytes ever counted against the budget.", weights.peak),
            ]
            for (name, help, value) in gauges {
                out.describe(name, type: "gauge", help: help)
                out.sample(name, labels: [], value: Double(value))
            }
        }
        return String(out.text.dropLast())
    }
}
