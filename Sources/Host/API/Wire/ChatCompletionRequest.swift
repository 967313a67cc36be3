import HostCore

/// The body of `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String
    var messages: [WireMessage]
    var sampling: SamplingFields
    var logprobs: Bool?
    var topLogprobs: Int?
    var responseFormat: WireResponseFormat?
    var tools: [JSONValue]?
    var toolChoice: JSONValue?

    private enum CodingKeys: String, CodingKey {
        case model, messages, logprobs, tools
        case topLogprobs = "top_logprobs"
        case responseFormat = "response_format"
        case toolChoice = "tool_choice"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([WireMessage].self, forKey: .messages)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
        responseFormat = try container.decodeIfPresent(WireResponseFormat.self, forKey: .responseFormat)
        tools = try container.decodeIfPresent([JSONValue].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        sampling = try SamplingFields(from: decoder)
    }

    /// The tool calling the request asks for; nil when none is in play (no tools, or tool_choice "none").
    /// `parallel_tool_calls` is accepted and ignored: a reply makes at most one call.
    func toolCalling() throws(APIError) -> ToolCalling? {
        try ToolCalling.decode(tools: tools, choice: toolChoice)
    }

    /// Validates everything but the model and builds the generation request of choice 0, with `tools` applied.
    func generationRequest(tools calling: ToolCalling? = nil) throws(APIError) -> GenerationRequest {
        guard !messages.isEmpty else { throw .invalid("messages must not be empty.", param: "messages") }
        var request = GenerationRequest(model: model, prompt: .chat(messages.map(\.chatMessage)))
        try sampling.apply(to: &request)
        let top = topLogprobs ?? 0
        guard (0...SamplingFields.Limits.maxTopLogprobs).contains(top) else {
            throw .invalid("top_logprobs must be between 0 and \(SamplingFields.Limits.maxTopLogprobs) (got \(top)).",
                           param: "top_logprobs")
        }
        if topLogprobs != nil && logprobs != true {
            throw .invalid("top_logprobs needs logprobs set to true.", param: "top_logprobs")
        }
        request.logprobs = logprobs ?? false
        request.topLogprobs = top
        request.responseFormat = try responseFormat?.generationFormat ?? .text
        if let calling {
            try checkCompatible(with: request)
            calling.apply(to: &request)
        }
        return request
    }

    /// Tool calling owns the output format and its tokens are those of the JSON envelope, so it does not combine
    /// with a response_format of its own or with logprobs.
    private func checkCompatible(with request: GenerationRequest) throws(APIError) {
        if request.responseFormat != .text {
            throw .unsupported("response_format cannot be combined with tools: tool calling already constrains the "
                + "output to its own JSON format. Send one or the other (or tool_choice \"none\").",
                               param: "response_format")
        }
        if request.logprobs {
            throw .unsupported("logprobs cannot be combined with tools: the sampled tokens are those of the JSON "
                + "envelope that carries the tool call or answer, not of the reply.", param: "logprobs")
        }
    }
}

/// OpenAI's `response_format`.
struct WireResponseFormat: Decodable, Sendable {
    var type: String
    var jsonSchema: Schema?

    struct Schema: Decodable, Sendable {
        var name: String
        var schema: JSONValue?
        var strict: Bool?
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case jsonSchema = "json_schema"
    }

    var generationFormat: GenerationRequest.ResponseFormat {
        get throws(APIError) {
            switch type {
            case "text": return .text
            case "json_object": return .jsonObject
            case "json_schema":
                guard let jsonSchema else {
                    throw .invalid("response_format of type json_schema needs a json_schema object.",
                                   param: "response_format.json_schema")
                }
                let schema = jsonSchema.schema ?? .object([:])
                return .jsonSchema(name: jsonSchema.name, schema: schema.jsonText, strict: jsonSchema.strict ?? false)
            default:
                throw .invalid("response_format.type must be text, json_object or json_schema (got '\(type)').",
                               param: "response_format.type")
            }
        }
    }
}
