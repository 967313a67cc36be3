import HostCore

/// One chat message as OpenAI sends it: string or multi-part content, assistant tool calls, tool answers.
struct WireMessage: Decodable, Sendable {
    var role: String
    var content: Content?
    var name: String?
    var toolCalls: [ToolCall]?
    var toolCallID: String?
    var reasoningContent: String?

    enum Content: Decodable, Sendable {
        case text(String)
        case parts([Part])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let parts = try? container.decode([Part].self) {
                self = .parts(parts)
            } else {
                // Decode again to surface the part's own error (with its path), or a type mismatch.
                do {
                    self = .parts(try container.decode([Part].self))
                } catch let error as DecodingError {
                    if case .typeMismatch = error {
                        throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                            debugDescription: "content must be a string or an array of content parts"))
                    }
                    throw error
                }
            }
        }
    }

    /// A content part: text, or an image by URL (http(s) or data: URL).
    struct Part: Decodable, Sendable {
        var part: ChatMessage.Part

        private enum CodingKeys: String, CodingKey {
            case type, text
            case imageURL = "image_url"
        }

        private struct ImageURL: Decodable {
            var url: String
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let type = try container.decode(String.self, forKey: .type)
            switch type {
            case "text":
                part = .text(try container.decode(String.self, forKey: .text))
            case "image_url":
                part = .image(url: try container.decode(ImageURL.self, forKey: .imageURL).url)
            default:
                throw DecodingError.dataCorruptedError(forKey: .type, in: container,
                    debugDescription: "content part type '\(type)' is not supported (supported: text, image_url)")
            }
        }
    }

    struct ToolCall: Decodable, Sendable {
        var id: String
        var function: Function

        struct Function: Decodable, Sendable {
            var name: String
            var arguments: String
        }
    }

    private enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }

    var chatMessage: ChatMessage {
        let content: ChatMessage.Content? = switch self.content {
        case .text(let text): .text(text)
        case .parts(let parts): .parts(parts.map(\.part))
        case nil: nil
        }
        return ChatMessage(role: role, content: content, name: name,
                           toolCalls: (toolCalls ?? []).map {
                               ChatMessage.ToolCall(id: $0.id, name: $0.function.name, arguments: $0.function.arguments)
                           },
                           toolCallID: toolCallID, reasoningContent: reasoningContent)
    }
}
