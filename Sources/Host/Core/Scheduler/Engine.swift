import PluginABI

/// The one engine of a host: a thread that steps every served model on one shared stream, a step at a time,
/// as the `Scheduler` plans, and keeps the models' weights within the memory budget as the `ResidencyPolicy`
/// plans (moves run on copy lanes beside the steps). Other threads only submit sequences, add models, wake it,
/// cancel and report finished moves; everything else is the engine thread's own state.
final class Engine: @unchecked Sendable {
    /// The weight-memory budget and the copy lanes weight moves use.
    struct Residency {
        var budget: UInt64
        var lanes: [DeviceStream]
    }

    // SAFETY: fields under "lock" are touched only inside `lock`; fields under "engine thread" only on the
    // engine thread (between `start` and the end of `run`). The fields that are not private are shared with the
    // residency half of the engine (Engine+Residency.swift) under the same rules, and with nothing else.
    let metrics: ServingMetrics
    // lock: every step, when a benchmark asks.
    private var trace: StepTrace?
    private let executor: StepExecutor
    let residency: Residency?
    let lock = ConditionLock()
    // lock:
    private var inbox: [(ServingModel, ScheduledSequence)] = []
    /// Loaded models, each with the weight reservations it takes the place of.
    private var arrivingModels: [(ServingModel, [WeightReservation])] = []
    /// Loads waiting for room in the weight budget, or holding it (granted).
    var reservations: [WeightReservation] = []
    private var waiting: [String: Int] = [:]
    var wakeups: UInt64 = 0
    var stopping = false
    var finishedMoves: [(ServingModel, Result<TransferReport, PluginError>)] = []
    // engine thread:
    var models: [ServingModel] = []
    private var thread: HostThread?
    var steps: UInt64 = 0
    /// The least virtual time of the busy models, never decreasing: where a model waking from idle joins when no
    /// other model is busy.
    private var virtualFloor = 0.0
    private var keyTimes = KeyTimes()

    init(stream: DeviceStream, metrics: ServingMetrics, residency: Residency? = nil) {
        executor = StepExecutor(stream: stream)
        self.metrics = metrics
        self.residency = residency
    }

    func start() {
        thread = HostThread { [self] in run() }
    }

    /// Ends every sequence (cancelled), lets the plugins close their requests, and stops the thread.
    func shutdown() {
        lock.broadcast { stopping = true }
        thread?.join()
    }

    /// Makes a loaded model schedulable. The weight reservations its load was granted end when the engine takes the
    /// model in (in the same step, so its weights are never counted twice or not at all).
    func add(_ model: ServingModel, releasing granted: [WeightReservation] = []) {
        lock.broadcast { arrivingModels.append((model, granted)) }
    }

    /// Takes `model` out of service once its sequences have finished, then unloads it (on the engine thread).
    func retire(_ model: ServingModel) {
        lock.broadcast { model.isRetired = true; wakeups += 1 }
    }

    /// What the engine holds, for a test that waited too long (read without the engine thread's cooperation:
    /// diagnostic only, meant for an engine that is stuck).
    func describe() -> String {
        let (inboxCount, stop, retired, held) = lock.locked { (inbox.count, stopping, models.map(\.isRetired), reservations) }
        var lines = ["engine: inbox \(inboxCount), stopping \(stop), steps \(steps)"]
        for reservation in held {
            lines.append("reservation \(reservation.planID): \(reservation.bytes) bytes, \(lock.locked { reservation.state })")
        }
        for (model, retired) in zip(models, retired) {
            lines.append("model \(model.id): retired \(retired), weights \(model.weights), draining \(model.draining), virtual time \(model.virtualTime), free pages \(model.pool.free)")
            for s in model.sequences {
                lines.append("  sequence \(s.id): known \(s.known.count), computed \(s.computed), pages \(s.pages.count), request \(s.request != nil), cancelled \(s.isCancelled), ended \(s.hasEnded)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Queues a sequence on `model`; refuses when the model's queue of not-yet-started sequences is full.
    func submit(_ sequence: ScheduledSequence, to model: ServingModel) throws(ServiceError) {
        let refusal = lock.locked { () -> ServiceError? in
            // A reload removed the model between the caller's lookup and here: a retry finds its replacement.
            if model.isRetired { return ServiceError(.loading, "model '\(model.id)' is being replaced or removed; retry", retryAfter: 1) }
            guard !stopping, waiting[model.id, default: 0] < model.maxWaiting else {
                return ServiceError(.overloaded, "model '\(model.id)' has \(model.maxWaiting) requests waiting; retry later", retryAfter: 1)
            }
            waiting[model.id, default: 0] += 1
            inbox.append((model, sequence))
            wakeups += 1
            return nil
        }
        if let refusal { throw refusal }
        lock.broadcast {}
    }

    /// Records every step from now on into `trace`.
    func record(into trace: StepTrace) { lock.locked { self.trace = trace } }

    /// Wakes the engine to look at its sequences again (a cancel arrived).
    func wake() { lock.broadcast { wakeups += 1 } }

    // MARK: engine thread

    private func run() {
        var seen: UInt64 = 0
        var busy = false
        while true {
            let (stop, arrivals, models) = waitForWork(after: &seen, busy: busy)
            self.models += models
            for (model, sequence) in arrivals { enqueue(sequence, on: model) }
            if stop {
                self.models.forEach { $0.sequences.forEach { $0.cancel() } }
                refuseWaitingReservations()
            }
            completeMoves()
            if !stop { planResidency() }
            busy = step()
            unloadRetired()
            if stop && self.models.allSatisfy({ $0.sequences.isEmpty && $0.move == nil }) { return }
        }
    }

    /// Unloads the retired models that have no sequences left. (A model retired before it arrived is unloaded once
    /// it does: retire() also bumps wakeups.)
    private func unloadRetired() {
        let idle = lock.locked { () -> [ServingModel] in
            // A sequence submitted before the retire may still sit in the inbox (it arrived after this iteration
            // collected the inbox): the model is not idle until that one has run too.
            models.filter { model in
                model.isRetired && model.sequences.isEmpty && model.move == nil && !inbox.contains { $0.0 === model }
            }
        }
        for model in idle {
            models.removeAll { $0 === model }
            model.model.unload(on: executor.stream)
            metrics.update(model.id) { $0.running = 0; $0.queueDepth = 0; $0.kvPagesUsed = 0 }
        }
    }

    /// Blocks until there is something new (unless the last step ran, then it only collects arrivals).
    /// A model that arrives takes the place of its load's reservations here, under the lock that `planResidency`
    /// reads them with: no plan sees both, or neither.
    private func waitForWork(after seen: inout UInt64, busy: Bool) -> (Bool, [(ServingModel, ScheduledSequence)], [ServingModel]) {
        let last = seen
        if !busy { lock.wait { stopping || wakeups != last || !arrivingModels.isEmpty } }
        return lock.locked {
            seen = wakeups
            let released = arrivingModels.flatMap(\.1)
            reservations.removeAll { held in released.contains { $0 === held } }
            defer { inbox.removeAll(); arrivingModels.removeAll() }
            return (stopping, inbox, arrivingModels.map(\.0))
        }
    }

    private func enqueue(_ sequence: ScheduledSequence, on model: ServingModel) {
        guard models.contains(where: { $0 === model }) else {
            // Unreachable by construction (see unloadRetired); if it ever happens, the request ends instead of
            // waiting forever on a model nothing steps.
            markStarted(sequence, on: model)
            sequence.hasEnded = true
            sequence.emit(.failed(ServiceError(.loading, "model '\(model.id)' was removed before the request started; retry", retryAfter: 1)))
            return
        }
        if model.sequences.isEmpty {
            let busyTimes = models.filter { !$0.sequences.isEmpty }.map(\.virtualTime)
            model.virtualTime = Scheduler.joiningTime(model.virtualTime, busy: busyTimes, floor: virtualFloor)
        }
        model.sequences.append(sequence)
        keyTimes.arrive(sequence.apiKey)
        sequence.emit(.started(promptTokens: sequence.promptCount))
    }

    /// One engine step: schedule -> execute -> apply aborts -> update -> emit. Returns whether a step ran.
    private func step() -> Bool {
        guard let (model, plan) = schedule() else { return false }
        steps += 1
        model.lastUsed = steps
        release(plan, on: model)
        let outcome = executor.execute(plan, on: model)
        if let trace = lock.locked({ trace }), let started = outcome.started {
            trace.record(StepTrace.Step(model: model.id, start: started, end: started + outcome.seconds, tokens: plan.tokenCount,
                                        items: plan.items.count))
        }
        applyAborts(outcome, on: model)
        let byKey = charge(model, plan: plan, outcome: outcome)
        update(model, with: outcome)
        recordStep(model, plan: plan, outcome: outcome, byKey: byKey)
        if let least = models.filter({ !$0.sequences.isEmpty }).map(\.virtualTime).min() { virtualFloor = max(virtualFloor, least) }
        return plan.runsStep || !plan.dropped.isEmpty || !plan.expired.isEmpty
    }

    /// The first model, in the scheduler's order, whose plan does something.
    private func schedule() -> (ServingModel, StepPlan)? {
        let now = MonotonicClock.seconds()
        var views = models.map { $0.view(keyTimes: keyTimes) }
        let interactive = views.map { $0.sequences.contains { $0.priority == .interactive && !$0.isCancelled } }
        for index in views.indices {
            views[index].othersInteractive = interactive.indices.contains { $0 != index && interactive[$0] }
            views[index].now = now
        }
        while let index = Scheduler.pickModel(views) {
            let plan = Scheduler.plan(views[index])
            if plan.runsStep || plan.endsOrPreempts { return (models[index], plan) }
            views[index].sequences = []
        }
        return nil
    }

    /// Sequences the plan drops or finds expired end now; preempted ones give their pages back and will recompute.
    private func release(_ plan: StepPlan, on model: ServingModel) {
        for id in plan.dropped {
            guard let sequence = model.sequence(id) else { continue }
            end(sequence, on: model, with: .finished(.cancelled, sequence.usage), outcome: "cancelled")
        }
        for id in plan.expired {
            guard let sequence = model.sequence(id) else { continue }
            let waited = MonotonicClock.seconds() - sequence.timing.queued
            let error = ServiceError(.deadlineExceeded, "the request did not start before its deadline (waited \(Int(waited * 1000)) ms; the model is busy)",
                                     retryable: false)
            end(sequence, on: model, with: .failed(error), outcome: "deadline")
        }
        for id in plan.preempted {
            guard let sequence = model.sequence(id) else { continue }
            let saved = model.savesKV ? try? model.model.saveKV(pages: sequence.pages, on: executor.stream) : nil
            if let saved { sequence.savedKV = (saved, sequence.pages.count) } else { sequence.computed = 0 }
            model.pool.release(&sequence.pages)
            metrics.update(model.id) { metrics in
                metrics.preemptions += 1
                if saved != nil { metrics.kvSaves += 1 }
            }
        }
    }

    /// Sequences whose plugin request could not be made fail with the plugin's reason.
    private func applyAborts(_ outcome: StepExecutor.Outcome, on model: ServingModel) {
        for (sequence, error) in outcome.refused {
            end(sequence, on: model, with: .failed(Self.serviceError(error)), outcome: "error")
        }
    }

    private func update(_ model: ServingModel, with outcome: StepExecutor.Outcome) {
        let now = MonotonicClock.seconds()
        for (sequence, item, events) in outcome.events {
            if outcome.failure == nil {
                sequence.computed = item.start + item.count
                sequence.unitsDone += item.units
            }
            markStarted(sequence, on: model)
            for event in events {
                switch event {
                case .tokens(let tokens): accept(tokens, for: sequence, on: model, at: now)
                case .tensor(let tensor): accept(tensor, for: sequence, on: model, at: now)
                case .final(let final): finish(sequence, on: model, final: final)
                }
            }
        }
    }

    /// An image of a denoise sequence goes to the client as it comes; a tensor that is not one of its images is a
    /// plugin bug that ends the sequence. A token sequence's tensors (logits, embeddings) are not served: dropped.
    private func accept(_ tensor: TensorOutput, for sequence: ScheduledSequence, on model: ServingModel, at now: Double) {
        guard !sequence.hasEnded else { return }
        guard let input = sequence.imageInput else { return }
        switch ImageOutputCheck.image(tensor, of: input, received: sequence.imagesReceived) {
        case .success(let image):
            sequence.imagesReceived += 1
            if sequence.timing.firstToken == nil { sequence.timing.firstToken = now }
            sequence.timing.lastToken = now
            sequence.emit(.image(index: Int(tensor.index), image))
        case .failure(let problem):
            sequence.hasEnded = true
            sequence.request?.sink.cancel()
            sequence.emit(.failed(ServiceError(.internalError, "the plugin emitted a bad image: \(problem)", retryable: false)))
            record(sequence, on: model, outcome: "error")
        }
    }

    private func accept(_ tokens: TokenOutput, for sequence: ScheduledSequence, on model: ServingModel, at now: Double) {
        sequence.known += tokens.tokens
        if sequence.constraint != nil, !tokens.tokens.allSatisfy({ sequence.constraint!.accept($0) }), !sequence.hasEnded {
            // The plugin sampled outside the mask it was given: a plugin bug, not the client's.
            sequence.hasEnded = true
            sequence.request?.sink.cancel()
            sequence.emit(.failed(ServiceError(.internalError, "the plugin sampled a token outside the response_format constraint", retryable: false)))
            record(sequence, on: model, outcome: "error")
        }
        let timing = sequence.timing
        metrics.update(model.id) { metrics in
            metrics.generatedTokens += tokens.tokens.count
            if let last = timing.lastToken { metrics.interToken.observe(now - last) } else { metrics.timeToFirstToken.observe(now - timing.queued) }
        }
        if timing.firstToken == nil { timing.firstToken = now }
        timing.lastToken = now
        guard !sequence.hasEnded, let release = sequence.output?.accept(tokens) else { return }
        if !release.text.isEmpty || !release.logprobs.isEmpty { sequence.emit(.text(release.text, logprobs: release.logprobs)) }
        if release.stopped {
            // A stop string: the client is done now; the plugin closes its request at the next step (a poll).
            sequence.hasEnded = true
            sequence.request?.sink.cancel()
            sequence.emit(.finished(.stop, sequence.usage))
            record(sequence, on: model, outcome: "stop")
        }
    }

    private func finish(_ sequence: ScheduledSequence, on model: ServingModel, final: FinalOutput) {
        let tail = sequence.hasEnded ? "" : sequence.output?.finish() ?? ""
        if !tail.isEmpty { sequence.emit(.text(tail, logprobs: [])) }
        if let input = sequence.imageInput, Int32(final.reason) == Int32(PX_FINISH_STOP), sequence.imagesReceived < Int(input.images) {
            let error = ServiceError(.internalError, "the plugin finished after \(sequence.imagesReceived) of \(input.images) images", retryable: false)
            end(sequence, on: model, with: .failed(error), outcome: "error")
            return
        }
        switch Int32(final.reason) {
        case Int32(PX_FINISH_STOP): end(sequence, on: model, with: .finished(.stop, sequence.usage), outcome: "stop")
        case Int32(PX_FINISH_LENGTH): end(sequence, on: model, with: .finished(.length, sequence.usage), outcome: "length")
        case Int32(PX_FINISH_CANCELLED): end(sequence, on: model, with: .finished(.cancelled, sequence.usage), outcome: "cancelled")
        default:
            let error = PluginError(status: final.status, message: final.message ?? "the plugin ended the request with an error", call: "step")
            end(sequence, on: model, with: .failed(Self.serviceError(error)), outcome: "error")
        }
    }

    /// Retires the sequence and sends its last event (unless the client already has it).
    /// Its pages are back and the metrics say so before the client hears the end.
    func end(_ sequence: ScheduledSequence, on model: ServingModel, with event: GenerationEvent, outcome: String) {
        markStarted(sequence, on: model)
        if model.retire(sequence) { keyTimes.leave(sequence.apiKey) }
        let used = model.pool.used
        metrics.update(model.id) { $0.kvPagesUsed = used }
        if !sequence.hasEnded {
            sequence.hasEnded = true
            record(sequence, on: model, outcome: outcome)
            sequence.emit(event)
        }
    }

    /// The sequence left the waiting queue (first step, or ended before one).
    private func markStarted(_ sequence: ScheduledSequence, on model: ServingModel) {
        guard !sequence.leftQueue else { return }
        sequence.leftQueue = true
        lock.locked { waiting[model.id, default: 1] -= 1 }
    }

    private func record(_ sequence: ScheduledSequence, on model: ServingModel, outcome: String) {
        let elapsed = MonotonicClock.seconds() - sequence.timing.queued
        let usage = sequence.usage
        metrics.update(model.id) { metrics in
            metrics.outcomes[outcome, default: 0] += 1
            metrics.promptTokens += usage.promptTokens
            metrics.endToEnd.observe(elapsed)
        }
    }

    /// Charges the step's device time to the model (its virtual time), to the sequences in it by work done, and to
    /// their keys; before `update`, so that a sequence that ends in this step reports the step in its usage. Returns
    /// the device seconds by key, for the metrics.
    private func charge(_ model: ServingModel, plan: StepPlan, outcome: StepExecutor.Outcome) -> [String: Double] {
        let interactive = outcome.events.contains { $0.0.priority == .interactive }
        model.virtualTime += Scheduler.charge(seconds: outcome.seconds, weight: model.weight, interactive: interactive)
        let work = outcome.events.map { $0.0.work(of: $0.1) }
        let total = work.reduce(0, +)
        model.measure(stepSeconds: outcome.seconds, items: plan.items, work: total)
        var byKey: [String: Double] = [:], virtualByKey: [String: Double] = [:]
        for ((sequence, _, _), work) in zip(outcome.events, work) {
            // By work done (tokens fed, or denoise units times images); a step that only polled, evenly.
            let share = outcome.seconds * (total == 0 ? 1 / Double(outcome.events.count) : Double(work) / Double(total))
            sequence.deviceSeconds += share
            byKey[sequence.apiKey ?? "", default: 0] += share
            virtualByKey[sequence.apiKey ?? "", default: 0] += share / sequence.keyWeight
        }
        for (key, seconds) in virtualByKey { keyTimes.charge(key, seconds: seconds) }
        return byKey
    }

    /// Records the step in the model's metrics: device time by key, queue depth, running sequences, KV pages.
    private func recordStep(_ model: ServingModel, plan: StepPlan, outcome: StepExecutor.Outcome, byKey: [String: Double]) {
        let waitingCount = model.waitingCount
        let running = model.sequences.count - waitingCount
        let used = model.pool.used
        let capacity = model.pool.capacity
        metrics.update(model.id) { metrics in
            metrics.steps += plan.runsStep ? 1 : 0
            metrics.deviceSeconds += outcome.seconds
            for (key, seconds) in byKey { metrics.deviceSecondsByKey[key, default: 0] += seconds }
            metrics.queueDepth = waitingCount
            metrics.running = running
            metrics.kvPagesUsed = used
            metrics.kvPages = capacity
        }
    }

    /// A plugin failure as the API sees it: the plugin's invalid-argument answers are the client's fault.
    static func serviceError(_ error: PluginError) -> ServiceError {
        switch error.status {
        case Int32(PX_ERR_INVALID_ARGUMENT), Int32(PX_ERR_UNSUPPORTED):
            return ServiceError(.invalidRequest, error.message, retryable: false)
        case Int32(PX_ERR_OUT_OF_MEMORY):
            return ServiceError(.internalError, "out of memory: \(error.message)", retryable: false)
        default:
            return ServiceError(.internalError, "\(error.call) failed: \(error.message)")
        }
    }
}
