import HostCore

/// Tool calling for one chat request, done the generic way (for any chat model, native tool format or not): the
/// tools go into a system instruction, the output is constrained to a JSON envelope built from them
/// (`ToolSchema`), and the envelope is read back into `tool_calls` or content (`ToolCallParser`).
struct ToolCalling: Sendable {
    var tools: [ToolDefinition]
    /// Never `.none`: with `none` the request is plain chat and there is no `ToolCalling`.
    var choice: ToolChoice

    /// The tool calling a request asks for; nil when none is in play (no tools, or `tool_choice: "none"`).
    static func decode(tools: [JSONValue]?, choice: JSONValue?) throws(APIError) -> ToolCalling? {
        let definitions = try ToolDefinition.decode(tools ?? [])
        let choice = try ToolChoice.decode(choice, hasTools: !definitions.isEmpty)
        if choice == .none { return nil }
        if case .function(let name) = choice, !definitions.contains(where: { $0.name == name }) {
            throw .invalid("tool_choice names the function '\(name)', which is not in tools.", param: "tool_choice")
        }
        return ToolCalling(tools: definitions, choice: choice)
    }

    /// Shows the tools to the model and constrains its output to the envelope.
    func apply(to request: inout GenerationRequest) {
        if case .chat(let messages) = request.prompt {
            request.prompt = .chat(ToolPrompt.messages(messages, tools: tools, choice: choice))
        }
        request.responseFormat = .jsonSchema(name: "tool_calling", schema: ToolSchema.text(tools: tools, choice: choice),
                                             strict: true)
    }

    /// A refusal of the envelope's schema is a refusal of a tool's parameters: a 400 on `tools` that says why.
    func error(starting error: APIError) -> APIError {
        guard error.param == "response_format" else { return error }
        var reason = ToolSchema.describe(error.message, toolCount: tools.count)
        if reason.hasPrefix("response_format: ") { reason.removeFirst("response_format: ".count) }
        return APIError(error.status, type: error.type, "A tool's parameters schema cannot be used: \(reason)",
                        param: "tools", code: error.code, shouldRetry: error.shouldRetry)
    }
}
