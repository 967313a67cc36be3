import PluginABI

/// Turns an API request into what the engine runs: prompt tokens and the plugin's sampling input, with every
/// check that can be made before queueing.
enum GenerationPrompt {
    static func tokens(for request: GenerationRequest, on served: ServingModel) throws(ServiceError) -> [Int32] {
        let frontend = try served.textFrontend()
        let tokens: [Int32]
        let param: String
        switch request.prompt {
        case .chat(let messages):
            param = "messages"
            if served.model.info.kind != UInt32(PX_KIND_VLM), messages.contains(where: hasImage) {
                throw ServiceError(.unsupported, "model '\(served.id)' does not take images (it has no vision encoder)", param: "messages", retryable: false)
            }
            do { tokens = try frontend.chatTokens(messages) } catch {
                throw chatError(error, model: served.id)
            }
        case .text(let text):
            param = "prompt"
            tokens = frontend.completionTokens(text)
        case .tokens(let ids):
            param = "prompt"
            if let bad = ids.first(where: { $0 < 0 || UInt32($0) >= served.model.info.vocabSize }) {
                throw ServiceError(.invalidRequest, "token \(bad) is outside the vocabulary of \(served.model.info.vocabSize)", param: param, retryable: false)
            }
            tokens = ids
        }
        guard !tokens.isEmpty else { throw ServiceError(.invalidRequest, "the prompt is empty", param: param, retryable: false) }
        let context = min(Int(served.model.info.contextLength), served.tokenCapacity)
        guard tokens.count < context else {
            throw ServiceError(.invalidRequest, "the prompt has \(tokens.count) tokens; model '\(served.id)' takes at most \(context - 1) so that one can be generated",
                               param: param, retryable: false)
        }
        return tokens
    }

    static func input(for request: GenerationRequest, prompt: [Int32], on served: ServingModel) throws(ServiceError) -> LLMRequestInput {
        let room = min(Int(served.model.info.contextLength), served.tokenCapacity) - prompt.count
        if let max = request.maxTokens, max < 1 {
            throw ServiceError(.invalidRequest, "max_tokens must be at least 1", param: "max_tokens", retryable: false)
        }
        var input = LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: UInt32(min(request.maxTokens ?? room, room)))
        input.temperature = request.temperature
        input.topP = request.topP
        input.topK = Int32(clamping: request.topK)
        input.minP = request.minP
        input.repetitionPenalty = request.repetitionPenalty
        input.frequencyPenalty = request.frequencyPenalty
        input.presencePenalty = request.presencePenalty
        input.logprobs = request.logprobs || request.topLogprobs > 0
        input.topLogprobs = UInt32(clamping: request.topLogprobs)
        input.seed = request.seed ?? UInt64.random(in: 0...UInt64.max)
        // A constrained output ends when its JSON value is complete, ignore_eos or not.
        let endsAtEOS = !request.ignoreEOS || request.responseFormat != .text
        input.stopTokens = (endsAtEOS ? (try served.textFrontend()).stopTokens : []) + request.stopTokenIDs
        return input
    }

    /// The constraint response_format asks for, with the model's end-of-generation tokens allowed once the JSON
    /// value is complete.
    static func constraint(for request: GenerationRequest, on served: ServingModel) throws(ServiceError) -> JSONConstraint? {
        let tokenizer = try served.textFrontend().tokenizer
        let grammar: JSONGrammar
        do throws(ConstraintError) {
            switch request.responseFormat {
            case .text: return nil
            case .jsonObject:
                grammar = try served.grammars.grammar(for: "") { () throws(ConstraintError) in JSONGrammar.anyObject(tokenizer: tokenizer) }
            case .jsonSchema(_, let schema, _):
                grammar = try served.grammars.grammar(for: schema) { () throws(ConstraintError) in try JSONGrammar.schema(schema, tokenizer: tokenizer) }
            }
        } catch {
            throw ServiceError(.invalidRequest, "response_format: \(error.description)", param: "response_format", retryable: false)
        }
        return JSONConstraint(grammar: grammar, endTokens: try served.textFrontend().stopTokens)
    }

    private static func hasImage(_ message: ChatMessage) -> Bool {
        guard case .parts(let parts)? = message.content else { return false }
        return parts.contains { if case .image = $0 { true } else { false } }
    }

    private static func chatError(_ error: ChatTemplateError, model: String) -> ServiceError {
        switch error {
        case .noChatTemplate:
            return ServiceError(.unsupported, error.description, param: "model", retryable: false)
        case .renderFailed(let failure) where failure.kind == .raised:
            return ServiceError(.invalidRequest, "the chat template of '\(model)' rejected the messages: \(failure)", param: "messages", retryable: false)
        default:
            return ServiceError(.internalError, "the chat template of '\(model)' failed: \(error)", retryable: false)
        }
    }
}
