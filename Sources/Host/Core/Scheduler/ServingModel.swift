/// A loaded model as the engine serves it: the plugin's model, its text front-end (token models), its KV pages and
/// its sequences. Owned by the engine thread.
final class ServingModel: @unchecked Sendable {
    // SAFETY: mutable state is touched on the engine thread only, except `isRetired` (under the engine's lock).
    let id: String
    let model: LoadedModel
    /// The tokenizer and chat template of a token model; nil for an image model.
    let frontend: TextFrontend?
    let weight: Double
    let maxWaiting: Int
    /// How long one sliced step may take: prefill chunks are sized from the measured cost to fit it.
    let sliceSeconds: Double
    /// The prefill cost learned from steps of 16 or more tokens.
    private var prefillCost = PrefillCostFit()
    /// The cost of a denoise unit, learned from the steps of an image model.
    private var denoiseCost = DenoiseCostFit()
    var pool: KVPagePool
    /// Live sequences in arrival order.
    var sequences: [ScheduledSequence] = []
    /// Device seconds over weight since the model last became busy.
    var virtualTime = 0.0
    /// Compiled response_format grammars by schema text (any thread; bounded).
    let grammars = GrammarCache()
    /// Never evicted (the catalog's `always_resident`).
    let pinned: Bool
    /// A preempted sequence's KV is saved in host memory (and restored when it continues) instead of recomputed:
    /// the plugin allows pages to move (ABI 1.2) and the spec does not turn it off.
    let savesKV: Bool
    /// The class of requests that do not name one (the catalog's `priority`).
    let priority: GenerationRequest.Priority
    /// Weight bytes the memory tiers move for this model (its file mappings excluded).
    let movableWeightBytes: UInt64
    /// Where the weights are; the model steps only while they are resident.
    var weights = WeightState.resident
    /// Starts no new sequence: it makes room for a waking model once its running ones end.
    var draining = false
    /// The engine step after which the model last stepped.
    var lastUsed: UInt64 = 0
    /// The thread carrying out a weight move in flight.
    var move: HostThread?
    /// Taken out of service: it takes no new sequence (read and written under the engine's lock).
    var isRetired = false

    init(id: String, model: LoadedModel, frontend: TextFrontend?, weight: Double = 1, maxWaiting: Int = 256,
         sliceSeconds: Double = ServedModelSpec.defaultSliceSeconds, pinned: Bool = false,
         priority: GenerationRequest.Priority = .interactive, savesKV: Bool = true) {
        self.id = id
        self.model = model
        self.frontend = frontend
        self.weight = weight
        self.maxWaiting = maxWaiting
        self.sliceSeconds = sliceSeconds
        self.pinned = pinned
        self.priority = priority
        self.savesKV = savesKV && model.movesKV
        movableWeightBytes = model.movableWeightBytes
        pool = KVPagePool(pages: model.kvPageCount)
    }

    /// What one sliced step may take: `sliceSeconds` at the learned prefill cost (Specs/scheduler.md).
    var slice: PrefillSlice { PrefillSlice(seconds: sliceSeconds, cost: prefillCost.estimate) }

    /// Whether the model runs denoise steps (an image model) rather than tokens.
    var denoises: Bool { model.info.denoises }

    /// The text front-end, or why this model has none.
    func textFrontend() throws(ServiceError) -> TextFrontend {
        guard let frontend else {
            throw ServiceError(.unsupported, "model '\(id)' generates images; use POST /v1/images/generations", param: "model", retryable: false)
        }
        return frontend
    }

    /// Learns the prefill cost (or, for an image model, the denoise cost) from a step that ran `items` in
    /// `stepSeconds`, `work` of them in all (tokens, or denoise units times images).
    func measure(stepSeconds: Double, items: [StepPlan.Item], work: Int) {
        if denoises {
            denoiseCost.add(seconds: stepSeconds, units: items.map(\.units).max() ?? 0, imageUnits: work)
            return
        }
        let tokens = items.reduce(0) { $0 + $1.count }
        guard tokens > 0 else { return }
        let positions = items.reduce(0.0) { $0 + Double($1.count) * (Double($1.start) + Double($1.count) / 2) }
        prefillCost.add(seconds: stepSeconds, tokens: tokens, meanPosition: positions / Double(tokens),
                        decodeOnly: items.allSatisfy { $0.count <= 1 })
    }

    /// Tokens the KV arena holds at most: no sequence may grow past it.
    var tokenCapacity: Int { pool.capacity * Int(model.info.kvPageTokens) }

    func sequence(_ id: UInt64) -> ScheduledSequence? { sequences.first { $0.id == id } }

    /// Sequences that have not started (no pages, no request).
    var waitingCount: Int { sequences.filter { $0.pages.isEmpty && $0.request == nil }.count }

    /// What the scheduler sees, with each sequence's API key's virtual time. A model whose weights are not resident
    /// shows only the cancelled sequences that never started (they end without a step); a draining one admits
    /// nothing new.
    func view(keyTimes: KeyTimes) -> ModelView {
        let visible = weights == .resident ? sequences : sequences.filter { $0.isCancelled && $0.request == nil }
        var view = ModelView(id: id, weight: weight, virtualTime: virtualTime, maxBatchTokens: Int(model.info.maxBatchTokens),
                             maxBatchItems: Int(model.info.maxBatchItems), slice: slice,
                             pageTokens: Int(model.info.kvPageTokens), freePages: pool.free,
                             sequences: visible.map { $0.view(keyTime: keyTimes[$0.apiKey]) })
        view.admits = !draining
        if denoises { view.denoise = DenoiseSlice(seconds: sliceSeconds, cost: denoiseCost.estimate) }
        return view
    }

    /// What the residency policy sees.
    func residencyView() -> ResidencyView {
        let started = sequences.contains { !$0.pages.isEmpty || $0.request != nil }
        let oldest = sequences.filter { $0.pages.isEmpty && $0.request == nil && !$0.isCancelled }.map(\.arrival).min()
        return ResidencyView(id: id, bytes: movableWeightBytes, state: weights, pinned: pinned, busy: started,
                             oldestWaiting: oldest, lastUsed: lastUsed, draining: draining)
    }

    /// Ends a sequence for good: its pages go back, its request is destroyed, it leaves the model. Returns whether
    /// it was still one of the model's sequences.
    @discardableResult
    func retire(_ sequence: ScheduledSequence) -> Bool {
        pool.release(&sequence.pages)
        if let saved = sequence.savedKV {
            model.dropSavedKV(saved.buffer)
            sequence.savedKV = nil
        }
        if let request = sequence.request { model.destroy(request) }
        sequence.request = nil
        guard let index = sequences.firstIndex(where: { $0 === sequence }) else { return false }
        sequences.remove(at: index)
        return true
    }
}

import Synchronization

/// Grammars compiled for one model's vocabulary, by their schema text; at most `limit` are kept.
final class GrammarCache: Sendable {
    private let entries = Mutex<[String: JSONGrammar]>([:])
    let limit = 64

    func grammar(for key: String, compile: () throws(ConstraintError) -> JSONGrammar) throws(ConstraintError) -> JSONGrammar {
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let grammar = try compile()
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[key] = grammar
        }
        return grammar
    }
}
