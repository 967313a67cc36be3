import HostCore

/// The conversation as a model without a native tool-call format sees it: a system instruction that lists the
/// tools and asks for one JSON object (`{"tool_call": ...}` or `{"response": ...}`), and earlier turns shown in
/// that same envelope.
///
/// Tool results go to the model as user messages (`Tool result (call id, name): ...`), consecutive ones merged,
/// rather than as role `tool`: the API cannot see whether a chat template knows that role, and templates that
/// insist on user/assistant alternation (Gemma's) reject it. Assistant turns carry their tool call or answer as
/// JSON content, never as `tool_calls`, so a template never renders a second (native) form of the same call.
enum ToolPrompt {
    /// `messages` with the instruction for `tools` under `choice` and the history rewritten into the envelope.
    static func messages(_ messages: [ChatMessage], tools: [ToolDefinition], choice: ToolChoice) -> [ChatMessage] {
        var result = history(messages)
        let text = instruction(tools: tools, choice: choice)
        if let first = result.firstIndex(where: { $0.role == "system" }) {
            result[first].content = appending(text, to: result[first].content)
        } else {
            result.insert(ChatMessage(role: "system", content: .text(text)), at: 0)
        }
        return result
    }

    /// The system instruction: the tools, then the answer format the choice allows.
    static func instruction(tools: [ToolDefinition], choice: ToolChoice) -> String {
        var lines = ["You have access to the following tools (functions):", ""]
        for tool in tools where choice.allows(tool) {
            lines.append("- \(tool.name): \(tool.description ?? "(no description)")")
            lines.append("  arguments (JSON Schema): \(tool.parameters.jsonText)")
        }
        lines.append("")
        lines.append("Reply with exactly one JSON object and nothing else.")
        let call = #"{"tool_call": {"name": "<tool name>", "arguments": {<arguments that match the tool's schema>}}}"#
        switch choice {
        case .auto, .none:
            lines.append("To call a tool: \(call)")
            lines.append(#"To answer the user directly: {"response": "<your answer>"}"#)
            lines.append("Call a tool when it helps answer; answer directly when no tool is needed.")
        case .required:
            lines.append("You must call one of the tools: \(call)")
        case .function(let name):
            lines.append("You must call the tool \(name): \(call)")
        }
        lines.append("A tool's result comes back in a later message starting with \"Tool result\".")
        return lines.joined(separator: "\n")
    }

    /// A tool call as the model is asked to write it.
    static func envelope(name: String, arguments: String) -> String {
        let arguments = JSONValue(parsing: arguments)?.jsonText ?? JSONValue.string(arguments).jsonText
        return #"{"tool_call": {"name": "# + JSONValue.string(name).jsonText + #", "arguments": "# + arguments + "}}"
    }

    /// An answer as the model is asked to write it.
    static func envelope(response: String) -> String {
        #"{"response": "# + JSONValue.string(response).jsonText + "}"
    }

    /// Earlier turns in the envelope: assistant calls and answers as JSON content, tool results as user messages.
    private static func history(_ messages: [ChatMessage]) -> [ChatMessage] {
        var names: [String: String] = [:]  // call id -> function name, for the tool results
        var result: [ChatMessage] = []
        for message in messages {
            switch message.role {
            case "assistant" where !message.toolCalls.isEmpty:
                for call in message.toolCalls { names[call.id] = call.name }
                let calls = message.toolCalls.map { envelope(name: $0.name, arguments: $0.arguments) }
                result.append(ChatMessage(role: "assistant", content: .text(calls.joined(separator: "\n"))))
            case "assistant":
                guard let text = message.content?.plainText else { result.append(message); continue }
                var answer = message
                answer.content = .text(envelope(response: text))
                result.append(answer)
            case "tool":
                let id = message.toolCallID ?? "unknown"
                let name = message.name ?? names[id] ?? "unknown"
                let text = "Tool result (\(id), \(name)): \(message.content?.plainText ?? "")"
                if let last = result.last, last.role == "user", last.content?.plainText?.hasPrefix("Tool result (") == true {
                    result[result.count - 1].content = appending(text, to: last.content)
                } else {
                    result.append(ChatMessage(role: "user", content: .text(text)))
                }
            default:
                result.append(message)
            }
        }
        return result
    }

    private static func appending(_ text: String, to content: ChatMessage.Content?) -> ChatMessage.Content {
        switch content {
        case nil: .text(text)
        case .text(let existing)?: .text(existing.isEmpty ? text : existing + "\n\n" + text)
        case .parts(let parts)?: .parts(parts + [.text("\n\n" + text)])
        }
    }
}

extension ChatMessage.Content {
    /// The text of the content (text parts joined); nil when it has only images.
    var plainText: String? {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            let texts = parts.compactMap { if case .text(let text) = $0 { text } else { nil } }
            return texts.isEmpty ? nil : texts.joined()
        }
    }
}
