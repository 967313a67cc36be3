import PluginABI

/// Decodes several sequences together, one token each per step (what `plexus bench --batch` measures): b requests,
/// each with its own range of KV pages, share every step until each has its tokens. Like `SequenceRunner`, a
/// client of the plugin ABI without the scheduler.
public struct BatchDecoder {
    public let model: LoadedModel
    let stream: DeviceStream

    /// What decoding the batch did: tokens generated over all sequences and the seconds every step took.
    public struct Outcome: Sendable {
        public var tokens = 0
        public var seconds = 0.0
        /// Tokens each sequence received (in request order).
        public var perSequence: [[Int32]] = []
    }

    public init(model: LoadedModel, stream: DeviceStream) {
        precondition(model.info.takesTokens, "BatchDecoder drives token models")
        self.model = model
        self.stream = stream
    }

    /// Decodes `prompts.count` sequences together: the first step holds every prompt (one item each), then every
    /// step one token per live sequence, until each has `maxNewTokens` or ended. Needs max_batch_items >= the count.
    public func decode(prompts: [[Int32]], input: LLMRequestInput, firstID: UInt64 = 1 << 40) throws(PluginError) -> Outcome {
        let count = prompts.count
        let longest = prompts.map(\.count).max() ?? 0
        let perSequence = PageList.pages(for: longest + Int(input.maxNewTokens) + 1, model: model)
        guard count <= Int(model.info.maxBatchItems), count * perSequence <= Int(model.kvPageCount),
              prompts.reduce(0, { $0 + $1.count }) <= Int(model.info.maxBatchTokens) else {
            throw PluginError(status: Int32(PX_ERR_INVALID_ARGUMENT),
                              message: "a batch of \(count) needs max_batch_items >= \(count), max_batch_tokens >= the prompts and \(count * perSequence) KV pages (the model has \(model.info.maxBatchItems) items, \(model.info.maxBatchTokens) tokens, \(model.kvPageCount) pages)",
                              call: "batch (host)")
        }
        var lanes: [Lane] = []
        defer { lanes.forEach { model.destroy($0.request) } }
        for (index, prompt) in prompts.enumerated() {
            var laneInput = input
            laneInput.promptTokenCount = UInt32(prompt.count)
            let sink = RequestSink(requestID: firstID + UInt64(index), vocabSize: model.info.vocabSize)
            let request = try model.makeRequest(id: firstID + UInt64(index), input: .tokens(kind: model.info.kind, laneInput), sink: sink)
            let pages = PageList(model: model, firstPage: UInt32(index * perSequence), end: UInt32((index + 1) * perSequence))
            lanes.append(Lane(request: request, sink: sink, pages: pages, next: prompt))
        }
        var outcome = Outcome()
        let started = MonotonicClock.nanoseconds()
        while case let live = lanes.indices.filter({ lanes[$0].sink.finalOutput == nil && !lanes[$0].next.isEmpty }), !live.isEmpty {
            var items: [StepItem] = []
            for index in live {
                var item = StepItem(request: lanes[index].request)
                item.pos = UInt32(lanes[index].position)
                item.tokens = lanes[index].next
                item.flags = UInt32(PX_ITEM_SAMPLE)
                item.kvPages = try lanes[index].pages.covering(lanes[index].position + lanes[index].next.count)
                items.append(item)
            }
            try model.step(items, on: stream)
            for index in live { lanes[index].advance() }
        }
        outcome.seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
        outcome.perSequence = lanes.map(\.generated)
        outcome.tokens = outcome.perSequence.reduce(0) { $0 + $1.count }
        return outcome
    }

    /// One sequence of the batch: its request, pages, and the tokens its next step feeds.
    private struct Lane {
        let request: ModelRequest
        let sink: RequestSink
        var pages: PageList
        var next: [Int32]
        var position = 0
        var generated: [Int32] = []

        /// After a step: the fed tokens are in the KV; what the sink received is fed next.
        mutating func advance() {
            position += next.count
            next = []
            for event in sink.drain() {
                if case .tokens(let output) = event {
                    generated += output.tokens
                    next = output.tokens.suffix(1)
                }
            }
        }
    }
}
