import HostCore

/// `POST /v1/completions`: the legacy text completion, whole or streamed.
struct CompletionsRoute {
    var context: RequestContext

    func respond(to request: APIRequest) async throws(APIError) -> APIResponse {
        let body = try request.decodeJSON(CompletionRequest.self)
        let generation = try body.generationRequest()
        let count = try body.sampling.choices(limit: context.configuration.maxChoices)
        let model = try context.model(named: body.model)
        guard model.capabilities.contains(.completion) else {
            throw .unsupported(MissingCapability.message(model: model, wanted: "text completions", hint: nil),
                               param: "model")
        }
        let handles = try context.startGenerations(generation, count: count)
        let id = ResponseID.make("cmpl")
        let created = ResponseID.now
        if body.sampling.isStreaming {
            let streamer = GenerationStreamer(
                handles: handles,
                builder: CompletionChunkBuilder(id: id, created: created, model: body.model,
                                                includeUsage: body.sampling.includeUsage,
                                                logprobs: generation.logprobs),
                pingInterval: context.configuration.pingInterval)
            return .eventStream { writer in await streamer.run(writer: writer) }
        }
        let results = try await GenerationCollector.collect(handles)
        let choices = results.enumerated().map { index, result in
            var logprobs: CompletionLogprobs?
            if generation.logprobs {
                var offset = 0
                logprobs = CompletionLogprobs()
                for piece in result.pieces {
                    logprobs?.append(piece.logprobs, startingAt: offset)
                    offset += piece.text.unicodeScalars.count
                }
            }
            return Completion.Choice(index: index, text: result.text, logprobs: logprobs,
                                     finishReason: result.finishReason)
        }
        return .json(Completion(id: id, created: created, model: body.model, choices: choices,
                                usage: WireUsage(results.map(\.usage))))
    }
}
