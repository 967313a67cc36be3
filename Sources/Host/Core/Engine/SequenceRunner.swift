import PluginABI

/// What one generated sequence did, with timings.
public struct SequenceResult: Sendable {
    public var tokens: [Int32] = []
    public var logprobs: [Float] = []
    public var final: FinalOutput?
    /// Seconds spent in prefill steps (the whole prompt) and in decode steps.
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0
    public var promptTokens = 0
    /// Logits of the last prompt position, when asked for.
    public var promptLogits: [Float]?
}

/// Runs one sequence at a time through a token model with a private KV page allocator: the simplest client of the
/// plugin ABI, used by `plexus run` and `plexus bench` until the scheduler serves many sequences at once. The
/// prompt goes in chunks of at most max_batch_tokens, then one token per decode step.
public final class SequenceRunner {
    public let model: LoadedModel
    let stream: DeviceStream
    private var nextID: UInt64 = 1

    public init(model: LoadedModel, stream: DeviceStream) {
        precondition(model.info.takesTokens, "SequenceRunner drives token models")
        self.model = model
        self.stream = stream
    }

    /// Generates from `prompt`; `input` carries the sampling parameters (its prompt count is set here).
    public func generate(prompt: [Int32], input: LLMRequestInput, wantLogits: Bool = false) throws(PluginError) -> SequenceResult {
        var input = input
        input.promptTokenCount = UInt32(prompt.count)
        let sink = RequestSink(requestID: nextID, vocabSize: model.info.vocabSize)
        let request = try model.makeRequest(id: nextID, input: .tokens(kind: model.info.kind, input), sink: sink)
        nextID += 1
        defer { model.destroy(request) }
        var result = SequenceResult(promptTokens: prompt.count)
        var pages = PageList(model: model)
        var position = 0
        let chunk = Int(model.info.maxBatchTokens)
        while position < prompt.count && sink.finalOutput == nil {
            let end = min(prompt.count, position + chunk)
            let started = MonotonicClock.nanoseconds()
            try step(request, tokens: Array(prompt[position..<end]), at: position, sample: end == prompt.count,
                     logits: wantLogits && end == prompt.count, pages: &pages)
            result.prefillSeconds += Double(MonotonicClock.nanoseconds() - started) / 1e9
            position = end
        }
        collect(sink, into: &result)
        while sink.finalOutput == nil, let last = result.tokens.last {
            let started = MonotonicClock.nanoseconds()
            try step(request, tokens: [last], at: position, sample: true, logits: false, pages: &pages)
            result.decodeSeconds += Double(MonotonicClock.nanoseconds() - started) / 1e9
            position += 1
            collect(sink, into: &result)
        }
        collect(sink, into: &result)
        return result
    }

    private func step(_ request: ModelRequest, tokens: [Int32], at position: Int, sample: Bool, logits: Bool,
                      pages: inout PageList) throws(PluginError) {
        var item = StepItem(request: request)
        item.pos = UInt32(position)
        item.tokens = tokens
        item.flags = (sample ? UInt32(PX_ITEM_SAMPLE) : 0) | (logits ? UInt32(PX_ITEM_LOGITS) : 0)
        item.kvPages = try pages.covering(position + tokens.count)
        try model.step([item], on: stream)
    }

    private func collect(_ sink: RequestSink, into result: inout SequenceResult) {
        for event in sink.drain() {
            switch event {
            case .tokens(let output):
                result.tokens += output.tokens
                result.logprobs += output.logprobs ?? []
            case .final(let final): result.final = final
            case .tensor(let tensor) where tensor.role == UInt32(PX_OUT_LOGITS):
                result.promptLogits = tensor.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            case .tensor: break
            }
        }
    }
}

/// A sequence's KV pages, taken in order from the model's arena (from `firstPage` up to `end`, so that sequences
/// decoded together each own a disjoint range).
struct PageList {
    let pageTokens: Int
    let capacity: UInt32
    let firstPage: UInt32
    private(set) var pages: [UInt32] = []

    init(model: LoadedModel, firstPage: UInt32 = 0, end: UInt32? = nil) {
        pageTokens = Int(max(model.info.kvPageTokens, 1))
        self.firstPage = firstPage
        capacity = min(end ?? model.kvPageCount, model.kvPageCount) - min(firstPage, model.kvPageCount)
    }

    /// The number of pages a sequence of `tokens` positions needs.
    static func pages(for tokens: Int, model: LoadedModel) -> Int {
        let pageTokens = Int(max(model.info.kvPageTokens, 1))
        return (tokens + pageTokens - 1) / pageTokens
    }

    /// The pages covering positions [0, count), allocating as needed.
    mutating func covering(_ count: Int) throws(PluginError) -> [UInt32] {
        let needed = (count + pageTokens - 1) / pageTokens
        while pages.count < needed {
            guard UInt32(pages.count) < capacity else {
                throw PluginError(status: Int32(PX_ERR_OUT_OF_MEMORY), message: "the KV arena of \(capacity) pages is full", call: "kv (host)")
            }
            pages.append(firstPage + UInt32(pages.count))
        }
        return pages
    }
}
