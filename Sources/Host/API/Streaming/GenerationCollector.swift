import HostCore

/// Gathers the complete result of each generation of a non-streamed request.
enum GenerationCollector {
    /// What one generation produced.
    struct Result: Sendable {
        /// The text pieces in order, each with the tokens that made it.
        var pieces: [(text: String, logprobs: [TokenLogprob])] = []
        var finishReason: String = "stop"
        var usage = Usage(promptTokens: 0, completionTokens: 0)

        var text: String { pieces.map(\.text).joined() }
        var logprobs: [TokenLogprob] { pieces.flatMap(\.logprobs) }
    }

    /// Waits for every generation; the first failure cancels the others and becomes the request's error.
    static func collect(_ handles: [GenerationHandle]) async throws(APIError) -> [Result] {
        let outcomes = await withTaskGroup(of: (Int, Swift.Result<Result, APIError>).self) { group in
            for (index, handle) in handles.enumerated() {
                group.addTask { (index, await collect(handle)) }
            }
            var outcomes = [Swift.Result<Result, APIError>?](repeating: nil, count: handles.count)
            for await (index, outcome) in group {
                outcomes[index] = outcome
                if case .failure = outcome { handles.forEach { $0.cancel() } }
            }
            return outcomes
        }
        var results: [Result] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let result): results.append(result)
            case .failure(let error): throw error
            case nil: throw .internalError("a generation produced no result")
            }
        }
        return results
    }

    private static func collect(_ handle: GenerationHandle) async -> Swift.Result<Result, APIError> {
        var result = Result()
        for await event in handle.events {
            switch event {
            case .started, .image:  // a text request never receives an image
                continue
            case .text(let text, let logprobs):
                result.pieces.append((text, logprobs))
            case .finished(let reason, let usage):
                guard let reason = reason.wireValue else {
                    return .failure(APIError(.serviceUnavailable, type: "server_error",
                                             "The generation was cancelled before it finished.", retryAfter: 1))
                }
                result.finishReason = reason
                result.usage = usage
                return .success(result)
            case .failed(let error):
                return .failure(APIError(error))
            }
        }
        return .failure(.internalError("The generation ended without a result."))
    }
}
