/// One message of a chat conversation, as the OpenAI chat API carries it, ready to hand to a chat template.
///
/// `templateValue` turns it into the dict Hugging Face chat templates expect: `role`, `content` (a string, a list
/// of parts, or None), and when present `name`, `tool_calls` (with `function.arguments` parsed from its JSON string
/// into an object, as vLLM does, because templates apply `tojson` to it), `tool_call_id` and `reasoning_content`.
public struct ChatMessage: Sendable, Equatable {
    /// The content of a message: plain text, or a list of parts (text and images).
    public enum Content: Sendable, Equatable {
        case text(String)
        case parts([Part])
    }

    /// One part of a multi-part content.
    public enum Part: Sendable, Equatable {
        case text(String)
        /// An image (by URL or data URL); templates see only `{"type": "image"}`, the pixels go to the model.
        case image(url: String)
    }

    /// A function call an assistant message made.
    public struct ToolCall: Sendable, Equatable {
        /// The call id that the matching tool message's `toolCallID` names.
        public var id: String
        /// The function name.
        public var name: String
        /// The arguments as the JSON text the model produced (OpenAI sends a string).
        public var arguments: String

        /// A call of `name` with `arguments` (JSON text), known as `id`.
        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// "system", "user", "assistant", "tool" (or another role the template knows).
    public var role: String
    /// The content; nil for an assistant message that only calls tools.
    public var content: Content?
    /// The optional participant name.
    public var name: String?
    /// Tool calls of an assistant message.
    public var toolCalls: [ToolCall]
    /// For a tool message: the id of the call it answers.
    public var toolCallID: String?
    /// An assistant message's reasoning, for templates that render it (e.g. Qwen3's `reasoning_content`).
    public var reasoningContent: String?

    /// A message with every field; see the static constructors for the common cases.
    public init(role: String, content: Content?, name: String? = nil, toolCalls: [ToolCall] = [],
                toolCallID: String? = nil, reasoningContent: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.reasoningContent = reasoningContent
    }

    /// A system message.
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: .text(text)) }
    /// A user message.
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: .text(text)) }
    /// An assistant message.
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: .text(text)) }
    /// A tool result answering the call `callID`.
    public static func tool(_ text: String, callID: String) -> ChatMessage {
        ChatMessage(role: "tool", content: .text(text), toolCallID: callID)
    }

    /// The dict a chat template sees. With `partsAsList` false (templates that only handle string content), text
    /// parts are joined with "\n" and images dropped, as vLLM does for such templates.
    public func templateValue(partsAsList: Bool) -> TemplateValue {
        var object: TemplateObject = ["role": .string(role)]
        switch content {
        case .text(let text)?:
            object["content"] = .string(text)
        case .parts(let parts)?:
            if partsAsList {
                object["content"] = .array(parts.map { part in
                    switch part {
                    case .text(let text): return ["type": "text", "text": .string(text)]
                    case .image: return ["type": "image"]
                    }
                })
            } else {
                let texts = parts.compactMap { part -> String? in
                    if case .text(let text) = part { return text }
                    return nil
                }
                object["content"] = .string(texts.joined(separator: "\n"))
            }
        case nil:
            object["content"] = TemplateValue.none
        }
        if let name { object["name"] = .string(name) }
        if !toolCalls.isEmpty {
            object["tool_calls"] = .array(toolCalls.map { call in
                let arguments = (try? TemplateJSON.decode(call.arguments)) ?? .string(call.arguments)
                return ["id": .string(call.id), "type": "function",
                        "function": ["name": .string(call.name), "arguments": arguments]]
            })
        }
        if let toolCallID { object["tool_call_id"] = .string(toolCallID) }
        if let reasoningContent { object["reasoning_content"] = .string(reasoningContent) }
        return .object(object)
    }
}
