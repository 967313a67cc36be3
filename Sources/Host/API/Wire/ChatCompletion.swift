import HostCore

/// The body of a non-streamed chat completion (OpenAI's ChatCompletion).
struct ChatCompletion: Encodable, Sendable {
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: WireUsage

    struct Choice: Encodable, Sendable {
        var index: Int
        var message: Message
        var logprobs: ChatLogprobs?
        var finishReason: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encode(logprobs, forKey: .logprobs)  // null when not asked for, as OpenAI sends it
            try container.encode(finishReason, forKey: .finishReason)
        }

        private enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }
    }

    /// The reply: text content, or (content null) the tool calls it makes.
    struct Message: Encodable, Sendable {
        var role = "assistant"
        var content: String?
        var toolCalls: [WireToolCall]?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encode(content, forKey: .content)  // null beside tool calls, as OpenAI sends it
            try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        }

        private enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
        }
    }
}

/// One streamed chat event (OpenAI's ChatCompletionChunk). `finish_reason` and `logprobs` are null until they
/// apply; `usage` appears only on the last chunk (with no choices) when the client asked for it.
struct ChatCompletionChunk: Encodable, Sendable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: WireUsage?

    struct Choice: Encodable, Sendable {
        var index: Int
        var delta: Delta
        var logprobs: ChatLogprobs?
        var finishReason: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }

        private enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }
    }

    /// The change to the message: the role once, then content or tool calls; empty on the finish chunk.
    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
        var toolCalls: [WireToolCallDelta]?

        private enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
        }
    }
}

/// OpenAI's chat logprobs: `{content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}`.
struct ChatLogprobs: Encodable, Sendable {
    var content: [Entry]

    struct Entry: Encodable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
        var topLogprobs: [Alternative]

        private enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
    }

    struct Alternative: Encodable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
    }

    init(_ tokens: [TokenLogprob]) {
        content = tokens.map { token in
            Entry(token: token.token, logprob: wireLogprob(token.logprob), bytes: token.bytes,
                  topLogprobs: token.top.map {
                      Alternative(token: $0.token, logprob: wireLogprob($0.logprob), bytes: $0.bytes)
                  })
        }
    }
}
