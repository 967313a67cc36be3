import HostCore

/// The chunks of a streamed chat completion: per choice, the role once (first), content deltas, one finish
/// chunk with an empty delta; at the end a usage chunk with no choices when `include_usage` was asked.
///
/// With tool calling the output is a JSON envelope, which is held back per choice until its generation ends and
/// then sent as what it means: the answer as one content delta, or the call as one `tool_calls` delta.
struct ChatChunkBuilder: ChunkBuilder, Sendable {
    let id: String
    let created: Int
    let model: String
    let includeUsage: Bool
    let logprobs: Bool
    let toolCalling: Bool
    private var roleSent: Set<Int> = []
    private var usages: [Usage] = []
    /// Per choice, the envelope text so far (tool calling only).
    private var envelopes: [Int: String] = [:]

    init(id: String, created: Int, model: String, includeUsage: Bool, logprobs: Bool, toolCalling: Bool = false) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
        self.logprobs = logprobs
        self.toolCalling = toolCalling
    }

    mutating func chunks(choice: Int, event: GenerationEvent) -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        if !roleSent.contains(choice) {
            roleSent.insert(choice)
            chunks.append(chunk(.init(index: choice, delta: .init(role: "assistant", content: ""))))
        }
        switch event {
        case .text(let text, _) where toolCalling:
            envelopes[choice, default: ""] += text
        case .text(let text, let tokens):
            let logprobs = self.logprobs ? ChatLogprobs(tokens) : nil
            chunks.append(chunk(.init(index: choice, delta: .init(content: text), logprobs: logprobs)))
        case .finished(let reason, let usage):
            usages.append(usage)
            guard var reason = reason.wireValue else { break }
            if toolCalling {
                let (delta, toolReason) = toolDelta(choice: choice, finishReason: reason)
                reason = toolReason
                chunks.append(chunk(.init(index: choice, delta: delta)))
            }
            chunks.append(chunk(.init(index: choice, delta: .init(), finishReason: reason)))
        case .started, .failed, .image:  // a text request never receives an image
            break
        }
        return chunks
    }

    func closingChunks() -> [ChatCompletionChunk] {
        guard includeUsage else { return [] }
        var last = chunk(nil)
        last.usage = WireUsage(usages)
        return [last]
    }

    /// The delta that carries choice `choice`'s finished envelope, and the finish reason that goes with it.
    private mutating func toolDelta(choice: Int, finishReason: String) -> (ChatCompletionChunk.Delta, String) {
        let text = envelopes.removeValue(forKey: choice) ?? ""
        switch ToolCallParser.reply(from: text, finishReason: finishReason) {
        case (.content(let content), let reason):
            return (.init(content: content), reason)
        case (.toolCall(let name, let arguments), let reason):
            return (.init(toolCalls: [WireToolCallDelta(index: 0, WireToolCall(name: name, arguments: arguments))]), reason)
        }
    }

    private func chunk(_ choice: ChatCompletionChunk.Choice?) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: choice.map { [$0] } ?? [])
    }
}

/// The chunks of a streamed text completion: text pieces (with legacy logprobs when asked), one finish chunk per
/// choice, and the usage chunk when asked.
struct CompletionChunkBuilder: ChunkBuilder, Sendable {
    let id: String
    let created: Int
    let model: String
    let includeUsage: Bool
    let logprobs: Bool
    /// Characters (Unicode scalars) sent so far per choice, for `text_offset`.
    private var offsets: [Int: Int] = [:]
    private var usages: [Usage] = []

    init(id: String, created: Int, model: String, includeUsage: Bool, logprobs: Bool) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
        self.logprobs = logprobs
    }

    mutating func chunks(choice: Int, event: GenerationEvent) -> [Completion] {
        switch event {
        case .text(let text, let tokens):
            var wireLogprobs: CompletionLogprobs?
            if logprobs {
                wireLogprobs = CompletionLogprobs()
                wireLogprobs?.append(tokens, startingAt: offsets[choice, default: 0])
            }
            offsets[choice, default: 0] += text.unicodeScalars.count
            return [chunk(.init(index: choice, text: text, logprobs: wireLogprobs))]
        case .finished(let reason, let usage):
            usages.append(usage)
            guard let reason = reason.wireValue else { return [] }
            return [chunk(.init(index: choice, text: "", finishReason: reason))]
        case .started, .failed, .image:  // a text request never receives an image
            return []
        }
    }

    func closingChunks() -> [Completion] {
        guard includeUsage else { return [] }
        var last = chunk(nil)
        last.usage = WireUsage(usages)
        return [last]
    }

    private func chunk(_ choice: Completion.Choice?) -> Completion {
        Completion(id: id, created: created, model: model, choices: choice.map { [$0] } ?? [])
    }
}
