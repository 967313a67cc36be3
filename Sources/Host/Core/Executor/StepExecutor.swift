import PluginABI

/// Runs one `StepPlan` as one plugin step on a stream and measures it. It binds the plan's items to the plugin's
/// requests (creating a request the first time a sequence is scheduled) and hands back what each sink received.
struct StepExecutor {
    let stream: DeviceStream

    /// What one step did.
    struct Outcome {
        /// Seconds the step took on its stream, measured with events (device time on a GPU; on the CPU, whose work
        /// completes inside `step`, the host clock around it); the wall time of step and step_finish if unmeasured.
        var seconds = 0.0
        /// When the plugin step began (nil when no step ran).
        var started: Double?
        /// The step failed as a whole (every item's request was ended by the host with this error).
        var failure: PluginError?
        /// Sequences whose request could not be created, with the reason.
        var refused: [(ScheduledSequence, PluginError)] = []
        /// Events each scheduled sequence's sink received, in plan order.
        var events: [(ScheduledSequence, StepPlan.Item, [SinkEvent])] = []
    }

    func execute(_ plan: StepPlan, on served: ServingModel) -> Outcome {
        var outcome = Outcome()
        var stepItems: [StepItem] = []
        var scheduled: [(ScheduledSequence, StepPlan.Item)] = []
        var restored: [ScheduledSequence] = []
        defer {
            for sequence in restored {
                if let saved = sequence.savedKV { served.model.dropSavedKV(saved.buffer) }
                sequence.savedKV = nil
            }
        }
        for item in plan.items {
            guard let sequence = served.sequence(item.sequence) else { continue }
            do throws(PluginError) {
                let request = try requestFor(sequence, on: served)
                if item.polls { request.sink.cancel() }
                served.pool.grow(&sequence.pages, to: item.pages)
                if item.restore, let saved = sequence.savedKV {
                    // Back into the first pages, on the stream before the step; the saved copy goes after the step.
                    try served.model.restoreKV(saved.buffer, into: Array(sequence.pages.prefix(saved.pages)), on: stream)
                    restored.append(sequence)
                }
                var stepItem = StepItem(request: request)
                stepItem.pos = UInt32(item.start)
                stepItem.tokens = Array(sequence.known[item.start..<(item.start + item.count)])
                stepItem.flags = item.sample ? UInt32(PX_ITEM_SAMPLE) : 0
                stepItem.kvPages = sequence.pages
                stepItem.units = UInt32(item.units)
                if item.sample, sequence.constraint != nil { stepItem.allowed = sequence.constraint!.allowedTokens() }
                stepItems.append(stepItem)
                scheduled.append((sequence, item))
            } catch {
                outcome.refused.append((sequence, error))
            }
        }
        guard !stepItems.isEmpty else { return outcome }
        let started = MonotonicClock.seconds()
        var measured: Double?
        do throws(PluginError) {
            measured = try served.model.step(stepItems, on: stream)
        } catch {
            outcome.failure = error
        }
        outcome.seconds = measured ?? MonotonicClock.seconds() - started
        outcome.started = started
        outcome.events = scheduled.map { ($0.0, $0.1, $0.0.request?.sink.drain() ?? []) }
        return outcome
    }

    private func requestFor(_ sequence: ScheduledSequence, on served: ServingModel) throws(PluginError) -> ModelRequest {
        if let request = sequence.request { return request }
        let sink = RequestSink(requestID: sequence.id, vocabSize: served.model.info.vocabSize)
        let input: RequestInput = switch sequence.work {
        case .tokens(let tokens): .tokens(kind: served.model.info.kind, tokens)
        case .denoise(let image): .image(image)
        }
        let request = try served.model.makeRequest(id: sequence.id, input: input, sink: sink)
        sequence.request = request
        return request
    }
}
