import PluginABI

/// What one request did under the checker: its outputs and how it ended.
struct DrivenRequest {
    var tokens: [Int32] = []
    var tensors = 0
    var final: FinalOutput?
    var violations: [String] = []
    var stepError: PluginError?
}

/// Drives requests through a loaded model the way the scheduler does, with a first-fit KV page allocator:
/// token models get their prompt as one prefill chunk, then one decode token per step; image and video models
/// get one unit per step. Optionally cancels every request after a number of steps.
struct RequestDriver {
    let model: LoadedModel
    let stream: DeviceStream
    private var freePages: [UInt32]
    private var nextID: UInt64 = 1

    init(model: LoadedModel, stream: DeviceStream) {
        self.model = model
        self.stream = stream
        freePages = Array((0..<model.kvPageCount).reversed())
    }

    /// One live request and its position.
    private struct Live {
        let index: Int
        let request: ModelRequest
        var prompt: [Int32]
        var fed = false
        var pos: UInt32 = 0
        var pages: [UInt32] = []
        var last: Int32?
    }

    /// Runs `inputs` together until every request ends or `stepLimit` steps passed.
    mutating func run(_ inputs: [RequestInput], prompts: [[Int32]], cancelAfter: Int? = nil,
                      stepLimit: Int) throws(PluginError) -> [DrivenRequest] {
        var outcomes = Array(repeating: DrivenRequest(), count: inputs.count)
        var live: [Live] = []
        for (index, input) in inputs.enumerated() {
            let sink = RequestSink(requestID: nextID, vocabSize: model.info.takesTokens ? model.info.vocabSize : 0)
            let request = try model.makeRequest(id: nextID, input: input, sink: sink)
            nextID += 1
            live.append(Live(index: index, request: request, prompt: index < prompts.count ? prompts[index] : []))
        }
        var steps = 0
        while !live.isEmpty && steps < stepLimit {
            if let cancelAfter, steps == cancelAfter { live.forEach { $0.request.sink.cancel() } }
            var items: [StepItem] = []
            for index in live.indices { items.append(try plan(&live[index])) }
            do {
                try model.step(items, on: stream)
            } catch {
                for entry in live { outcomes[entry.index].stepError = error }
            }
            steps += 1
            live = collect(live, items: items, into: &outcomes)
        }
        for entry in live { model.destroy(entry.request) }  // never ended: the checker reports it
        return outcomes
    }

    /// The next item of one request, growing its page list to cover the positions it will hold.
    private mutating func plan(_ entry: inout Live) throws(PluginError) -> StepItem {
        var item = StepItem(request: entry.request)
        item.pos = entry.pos
        guard model.info.takesTokens else {
            item.units = entry.request.sink.isCancelled ? 0 : 1
            return item
        }
        if !entry.request.sink.isCancelled {
            item.tokens = entry.fed ? entry.last.map { [$0] } ?? [] : entry.prompt
            item.flags = model.info.kind == UInt32(PX_KIND_EMBEDDING) ? UInt32(PX_ITEM_EMBED) : UInt32(PX_ITEM_SAMPLE)
        }
        let pageTokens = model.info.kvPageTokens
        if pageTokens > 0 {
            let needed = Int((entry.pos + UInt32(item.tokens.count) + pageTokens - 1) / pageTokens)
            while entry.pages.count < needed {
                guard let page = freePages.popLast() else {
                    throw PluginError(status: Int32(PX_ERR_OUT_OF_MEMORY), message: "the checker ran out of KV pages", call: "checker")
                }
                entry.pages.append(page)
            }
        }
        item.kvPages = entry.pages
        return item
    }

    /// Applies one step's outputs; returns the requests still live, destroying the ended ones.
    private mutating func collect(_ live: [Live], items: [StepItem], into outcomes: inout [DrivenRequest]) -> [Live] {
        var stillLive: [Live] = []
        for (entry, item) in zip(live, items) {
            var entry = entry
            entry.pos += UInt32(item.tokens.count)
            entry.fed = true
            for event in entry.request.sink.drain() {
                switch event {
                case .tokens(let output):
                    outcomes[entry.index].tokens += output.tokens
                    entry.last = output.tokens.last
                case .tensor: outcomes[entry.index].tensors += 1
                case .final(let final): outcomes[entry.index].final = final
                }
            }
            outcomes[entry.index].violations = entry.request.sink.violations
            if entry.request.sink.finalOutput != nil {
                model.destroy(entry.request)
                freePages += entry.pages
            } else {
                stillLive.append(entry)
            }
        }
        return stillLive
    }

    /// A small request of the model's kind, using its defaults.
    static func input(for info: ModelInfo, promptLength: Int, maxNewTokens: UInt32) -> RequestInput {
        switch Int(info.kind) {
        case PX_KIND_IMAGE:
            return .image(ImageRequestInput(prompt: "a red cube on a table", width: info.defaultWidth,
                                            height: info.defaultHeight, steps: min(info.defaultSteps, 2)))
        case PX_KIND_VIDEO:
            return .video(VideoRequestInput(prompt: "a red cube rotating", width: info.defaultWidth,
                                            height: info.defaultHeight, frames: min(info.defaultFrames, 2),
                                            steps: min(info.defaultSteps, 2)))
        default:
            return .tokens(kind: info.kind, LLMRequestInput(promptTokenCount: UInt32(promptLength), maxNewTokens: maxNewTokens))
        }
    }
}
