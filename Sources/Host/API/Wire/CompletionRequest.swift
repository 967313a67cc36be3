import HostCore

/// The body of `POST /v1/completions`.
struct CompletionRequest: Decodable, Sendable {
    var model: String
    var prompt: GenerationRequest.Prompt
    var sampling: SamplingFields
    var echo: Bool?
    /// The legacy form: how many alternatives per token (0 = only the chosen token's logprob).
    var logprobs: Int?

    private enum CodingKeys: String, CodingKey {
        case model, prompt, echo, logprobs
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        prompt = try Self.decodePrompt(container)
        sampling = try SamplingFields(from: decoder)
    }

    /// A prompt is a string, an array of one string, or an array of token ids (or an array of one such array).
    private static func decodePrompt(_ container: KeyedDecodingContainer<CodingKeys>) throws -> GenerationRequest.Prompt {
        if let text = try? container.decode(String.self, forKey: .prompt) { return .text(text) }
        if let texts = try? container.decode([String].self, forKey: .prompt) {
            guard texts.count == 1 else { throw batchError(container) }
            return .text(texts[0])
        }
        if let tokens = try? container.decode([Int32].self, forKey: .prompt) { return .tokens(tokens) }
        if let batches = try? container.decode([[Int32]].self, forKey: .prompt) {
            guard batches.count == 1 else { throw batchError(container) }
            return .tokens(batches[0])
        }
        if !container.contains(.prompt) {
            throw DecodingError.keyNotFound(CodingKeys.prompt, .init(codingPath: container.codingPath,
                                                                     debugDescription: "prompt is required"))
        }
        throw DecodingError.typeMismatch(String.self, .init(codingPath: container.codingPath + [CodingKeys.prompt],
            debugDescription: "prompt must be a string, an array of one string, or an array of token ids"))
    }

    private static func batchError(_ container: KeyedDecodingContainer<CodingKeys>) -> DecodingError {
        .dataCorrupted(.init(codingPath: container.codingPath + [CodingKeys.prompt],
            debugDescription: "a batch of several prompts is not supported; send one prompt per request"))
    }

    /// Validates everything but the model and builds the generation request of choice 0.
    func generationRequest() throws(APIError) -> GenerationRequest {
        var request = GenerationRequest(model: model, prompt: prompt)
        if case .tokens(let tokens) = prompt, tokens.isEmpty {
            throw .invalid("prompt must not be empty.", param: "prompt")
        }
        try sampling.apply(to: &request)
        if let logprobs {
            guard (0...SamplingFields.Limits.maxTopLogprobs).contains(logprobs) else {
                throw .invalid("logprobs must be between 0 and \(SamplingFields.Limits.maxTopLogprobs) (got \(logprobs)).",
                               param: "logprobs")
            }
            request.logprobs = true
            request.topLogprobs = logprobs
        }
        request.echo = echo ?? false
        return request
    }
}
