import HostCore

/// Reads a tool-calling reply (the envelope `ToolSchema` constrains the output to) back into what the API sends.
enum ToolCallParser {
    /// What one generation answered.
    enum Reply: Sendable, Equatable {
        /// Text for `message.content`.
        case content(String)
        /// One function call; `arguments` is the JSON text of the arguments object.
        case toolCall(name: String, arguments: String)
    }

    /// The reply in `text` and the finish reason to send: `tool_calls` for a call. Output that is not a whole
    /// envelope (cut by `max_tokens`, or a stop string) is passed on as it is, with its own finish reason, rather
    /// than guessed at.
    static func reply(from text: String, finishReason: String) -> (reply: Reply, finishReason: String) {
        guard finishReason != "length", case .object(let envelope)? = JSONValue(parsing: text), envelope.count == 1 else {
            return (.content(text), finishReason)
        }
        switch (envelope["tool_call"], envelope["response"]) {
        case (.object(let call)?, nil):
            guard case .string(let name)? = call["name"], let arguments = call["arguments"] else {
                return (.content(text), finishReason)
            }
            return (.toolCall(name: name, arguments: arguments.jsonText), "tool_calls")
        case (nil, .string(let response)?):
            return (.content(response), finishReason)
        default:
            return (.content(text), finishReason)
        }
    }
}
