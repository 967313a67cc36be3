import HostCore

/// The body of a text completion, and of each of its stream events (OpenAI's Completion: the same object
/// "text_completion" either way; streamed choices carry a piece of text and a null finish_reason until the end).
struct Completion: Encodable, Sendable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: WireUsage?

    struct Choice: Encodable, Sendable {
        var index: Int
        var text: String
        var logprobs: CompletionLogprobs?
        var finishReason: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }

        private enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
        }
    }
}

/// The legacy completions logprobs: parallel arrays, alternatives as {token: logprob} maps, and each token's
/// character offset in the choice's text.
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Float] = []
    var topLogprobs: [[String: Float]] = []
    var textOffset: [Int] = []

    private enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    /// Appends `logprobs`, the first of which starts at character `offset` of the text.
    mutating func append(_ logprobs: [TokenLogprob], startingAt offset: Int) {
        var offset = offset
        for token in logprobs {
            tokens.append(token.token)
            tokenLogprobs.append(wireLogprob(token.logprob))
            var top: [String: Float] = [:]
            for alternative in token.top where top[alternative.token] == nil {
                top[alternative.token] = wireLogprob(alternative.logprob)
            }
            topLogprobs.append(top)
            textOffset.append(offset)
            offset += token.token.unicodeScalars.count
        }
    }
}
