import HostCore

/// `POST /v1/chat/completions`: validates, fans out `n` generations, answers with one ChatCompletion or an
/// event stream of ChatCompletionChunks.
struct ChatCompletionsRoute {
    var context: RequestContext

    func respond(to request: APIRequest) async throws(APIError) -> APIResponse {
        let body = try request.decodeJSON(ChatCompletionRequest.self)
        let tools = try body.toolCalling()
        let generation = try body.generationRequest(tools: tools)
        let count = try body.sampling.choices(limit: context.configuration.maxChoices)
        let model = try context.model(named: body.model)
        guard model.capabilities.contains(.chat) else {
            throw .unsupported(MissingCapability.message(model: model, wanted: "chat completions",
                                                         hint: "it has no chat template; use /v1/completions"),
                               param: "model")
        }
        let handles: [GenerationHandle]
        do throws(APIError) {
            handles = try context.startGenerations(generation, count: count)
        } catch {
            throw tools?.error(starting: error) ?? error
        }
        let id = ResponseID.make("chatcmpl")
        let created = ResponseID.now
        if body.sampling.isStreaming {
            let streamer = GenerationStreamer(
                handles: handles,
                builder: ChatChunkBuilder(id: id, created: created, model: body.model,
                                          includeUsage: body.sampling.includeUsage, logprobs: generation.logprobs,
                                          toolCalling: tools != nil),
                pingInterval: context.configuration.pingInterval)
            return .eventStream { writer in await streamer.run(writer: writer) }
        }
        let results = try await GenerationCollector.collect(handles)
        let choices = results.enumerated().map { index, result in
            guard tools != nil else {
                return ChatCompletion.Choice(index: index, message: .init(content: result.text),
                                             logprobs: generation.logprobs ? ChatLogprobs(result.logprobs) : nil,
                                             finishReason: result.finishReason)
            }
            let (reply, finishReason) = ToolCallParser.reply(from: result.text, finishReason: result.finishReason)
            return ChatCompletion.Choice(index: index, message: .init(reply), logprobs: nil, finishReason: finishReason)
        }
        return .json(ChatCompletion(id: id, created: created, model: body.model, choices: choices,
                                    usage: WireUsage(results.map(\.usage))))
    }
}

extension ChatCompletion.Message {
    /// The message for a tool-calling reply: content, or a tool call with content null.
    init(_ reply: ToolCallParser.Reply) {
        switch reply {
        case .content(let text): self.init(content: text)
        case .toolCall(let name, let arguments): self.init(content: nil, toolCalls: [WireToolCall(name: name, arguments: arguments)])
        }
    }
}
