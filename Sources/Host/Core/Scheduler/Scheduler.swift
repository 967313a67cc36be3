/// The scheduling policy: which model steps next, and what one model's step takes. Pure functions of plain values
/// (`ModelView` in, `StepPlan` out); Specs/scheduler.md states the invariants they keep.
public enum Scheduler {
    /// Share of the device a batch step is charged for, relative to an interactive one: a step that serves only
    /// batch sequences costs its model 1 / batchShare times more virtual time, so batch work gets about this
    /// fraction of a device that interactive work also wants, and never none.
    public static let batchShare = 0.05

    /// The model to step next among `models`: the least virtual time (device seconds over weight, batch steps
    /// charged 1 / `batchShare` times more, so each model gets its weighted share and none starves), then
    /// interactive work before batch work, then the id.
    public static func pickModel(_ models: [ModelView]) -> Int? {
        models.indices.filter { models[$0].hasWork }.min { a, b in
            let (x, y) = (models[a], models[b])
            if x.virtualTime != y.virtualTime { return x.virtualTime < y.virtualTime }
            if x.topPriority != y.topPriority { return x.topPriority == .interactive }
            return x.id < y.id
        }
    }

    /// The virtual time of a model that becomes busy after being idle: at least the least virtual time of the busy
    /// models, or when none is busy, at least `floor` (the least virtual time the busy models had last, which never
    /// decreases). So idle time earns no credit: a model that was idle while another worked does not then get the
    /// device to itself until it has caught up.
    public static func joiningTime(_ own: Double, busy: [Double], floor: Double) -> Double {
        max(own, busy.min() ?? floor)
    }

    /// Virtual time a step of `seconds` costs a model of `weight`, by whether it served an interactive sequence.
    public static func charge(seconds: Double, weight: Double, interactive: Bool) -> Double {
        seconds / (weight * (interactive ? 1 : batchShare))
    }

    /// One step of `model`: polls for cancelled requests, one token for every decoding sequence, then prefill
    /// chunks, then new sequences while memory allows; under memory pressure the least urgent running sequence
    /// gives its pages back (it recomputes later) so that more urgent ones keep decoding. Never plans more pages
    /// than are free, more tokens than `maxBatchTokens` or more items than `maxBatchItems`.
    /// A denoise model's step instead runs units of the most urgent sequence and of every sequence of the same
    /// image shape (one batch), sliced like a prefill.
    public static func plan(_ model: ModelView) -> StepPlan {
        var planner = Planner(model: model)
        planner.planCancelled()
        planner.planExpired()
        if let slice = model.denoise {
            planner.planDenoise(slice)
        } else {
            planner.planDecodes()
            planner.planPrefills()
            planner.planAdmissions()
        }
        return planner.plan
    }
}

/// The working state of one `Scheduler.plan` call.
private struct Planner {
    let model: ModelView
    var plan: StepPlan
    var free: Int
    var tokens: Int
    var items: Int
    /// Live sequences, most urgent first: interactive before batch, then the API key that used less device time
    /// (fair share per key), then the earlier deadline, then by arrival.
    var live: [SequenceView]
    var planned: Set<UInt64> = []

    init(model: ModelView) {
        self.model = model
        plan = StepPlan(model: model.id)
        free = model.freePages
        tokens = model.maxBatchTokens
        items = model.maxBatchItems
        live = model.sequences.filter { !$0.isCancelled }.sorted { a, b in
            if a.priority != b.priority { return a.priority == .interactive }
            if a.keyTime != b.keyTime { return a.keyTime < b.keyTime }
            if a.startBy != b.startBy { return (a.startBy ?? .infinity) < (b.startBy ?? .infinity) }
            return a.arrival < b.arrival
        }
    }

    /// Cancelled sequences the plugin knows are polled once (it answers FINAL(CANCELLED)); the others just end.
    mutating func planCancelled() {
        for sequence in model.sequences where sequence.isCancelled {
            if sequence.hasRequest, items > 0 {
                add(StepPlan.Item(sequence: sequence.id, start: sequence.computed, count: 0, sample: false, pages: sequence.pages))
            } else if !sequence.hasRequest {
                plan.dropped.append(sequence.id)
            }
        }
    }

    /// Sequences that never started and whose deadline has passed end without a step (no device time spent).
    mutating func planExpired() {
        let expired = live.filter { $0.pages == 0 && !$0.hasRequest && ($0.startBy ?? .infinity) < model.now }
        guard !expired.isEmpty else { return }
        plan.expired = expired.map(\.id)
        let ids = Set(plan.expired)
        live.removeAll { ids.contains($0.id) }
    }

    mutating func planDecodes() {
        var index = 0
        while index < live.count {
            let sequence = live[index]
            index += 1
            guard sequence.isDecoding, items > 0, tokens > 0 else { continue }
            let need = model.pagesFor(tokens: sequence.computed + 1) - sequence.pages
            if need > free && !preemptLeastUrgent(after: index - 1, toFree: need) { continue }
            free -= need
            tokens -= 1
            add(StepPlan.Item(sequence: sequence.id, start: sequence.computed, count: 1, sample: true,
                              pages: sequence.pages + need))
        }
    }

    /// Sequences part-way through their prompt feed their next chunk, as pages allow (sliced, see `prefill`). One
    /// with no room for its next token takes pages from less urgent sequences, as a decode does: otherwise a prefill
    /// and a decode could each wait for the other's pages forever (a benchmark found that deadlock).
    mutating func planPrefills() {
        var index = 0
        while index < live.count {
            let sequence = live[index]
            index += 1
            guard sequence.pages > 0, sequence.pending > 1, !planned.contains(sequence.id), items > 0, tokens > 0 else { continue }
            let need = model.pagesFor(tokens: sequence.computed + 1) - sequence.pages
            if need > free && !preemptLeastUrgent(after: index - 1, toFree: need) { continue }
            prefill(sequence, holding: sequence.pages)
        }
    }

    /// Sequences without pages (new, or preempted earlier) start, in urgency order, while their whole prompt fits in the
    /// free pages left after one page of headroom per decoding sequence; the first that does not fit stops the
    /// rest, so a long prompt is not starved by shorter ones behind it. A draining model admits none.
    mutating func planAdmissions() {
        guard model.admits else { return }
        let headroom = plan.items.filter { $0.count == 1 }.count
        let preempted = Set(plan.preempted)
        for sequence in live where sequence.pages == 0 && !planned.contains(sequence.id) && !preempted.contains(sequence.id) {
            guard items > 0, tokens > 0 else { return }
            guard model.pagesFor(tokens: sequence.known + 1) <= free - headroom else { return }
            if sequence.saved > 0 {
                // Its KV waits in host memory: it goes back into the new pages and the sequence continues.
                if prefill(sequence, holding: 0) { plan.items[plan.items.count - 1].restore = true }
                continue
            }
            var restart = sequence
            restart.computed = 0
            _ = prefill(restart, holding: 0)
        }
    }

    /// Same-shape batching of denoise steps: the most urgent sequence with units left sets the shape, and every live
    /// sequence of that shape joins it (in urgency order, up to the item limit), newly arrived ones included, so a
    /// batch refills at every step boundary. Each runs the same number of units (fewer if it has fewer left): one
    /// slice while another model has interactive work waiting, else up to 4 slices, so no step of a denoise model
    /// holds the stream for long.
    mutating func planDenoise(_ slice: DenoiseSlice) {
        guard let lead = live.first(where: { $0.units > 0 && !planned.contains($0.id) }) else { return }
        let batch = live.filter { $0.units > 0 && $0.shape == lead.shape && !planned.contains($0.id) }.prefix(max(items, 0))
        let images = batch.reduce(0) { $0 + max($1.images, 1) }
        let units = slice.units(images: images, slices: model.othersInteractive ? 1 : 4)
        for sequence in batch { add(.denoise(sequence.id, units: min(units, sequence.units))) }
    }

    /// Plans the next prefill chunk of `sequence`; returns whether it was planned.
    @discardableResult
    mutating func prefill(_ sequence: SequenceView, holding held: Int) -> Bool {
        guard items > 0, tokens > 0 else { return false }
        // Slice while someone waits for a token: a sequence decoding in this step, interactive work of another
        // model, or (batch work is never in a hurry) a batch prefill, which takes at most 4 slices.
        let decoding = model.othersInteractive || plan.items.contains { $0.count == 1 && $0.sample }
        let slice = decoding ? model.slice.tokens(from: sequence.computed, pending: sequence.pending)
                  : sequence.priority == .batch ? model.slice.tokens(from: sequence.computed, pending: sequence.pending, slices: 4) : tokens
        let cap = min(tokens, slice)
        let fits = (held + free) * model.pageTokens - sequence.computed
        let count = min(sequence.pending, cap, fits)
        guard count > 0 else { return false }
        let pages = model.pagesFor(tokens: sequence.computed + count)
        free -= pages - held
        tokens -= count
        add(StepPlan.Item(sequence: sequence.id, start: sequence.computed, count: count,
                          sample: sequence.computed + count == sequence.known, pages: pages))
        return true
    }

    /// Frees pages by preempting running sequences from the least urgent end, never one at or before `index`
    /// and never one already planned. Returns whether `need` pages are now free.
    mutating func preemptLeastUrgent(after index: Int, toFree need: Int) -> Bool {
        var victim = live.count - 1
        while free < need && victim > index {
            let candidate = live[victim]
            if candidate.pages > 0 && !planned.contains(candidate.id) {
                free += candidate.pages
                plan.preempted.append(candidate.id)
                live[victim].pages = 0
                live[victim].computed = 0
            }
            victim -= 1
        }
        return free >= need
    }

    mutating func add(_ item: StepPlan.Item) {
        plan.items.append(item)
        planned.insert(item.sequence)
        items -= 1
    }
}
