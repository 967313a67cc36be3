import HostCore

/// OpenAI's `usage` object, with Plexus's `device_seconds` (Specs/api.md, "Usage").
struct WireUsage: Encodable, Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    var deviceSeconds: Double

    /// The usage of one request: the prompt counted once, the completions and device time of all its choices summed.
    init(_ usages: [Usage]) {
        promptTokens = usages.map(\.promptTokens).max() ?? 0
        completionTokens = usages.map(\.completionTokens).reduce(0, +)
        totalTokens = promptTokens + completionTokens
        deviceSeconds = usages.map(\.deviceSeconds).reduce(0, +)
    }

    private enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case deviceSeconds = "device_seconds"
    }
}

/// The finish reasons OpenAI's enum has; `cancelled` has no wire form (its client is gone).
extension FinishReason {
    var wireValue: String? {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .cancelled: nil
        }
    }
}

/// A log-probability as JSON can carry it: -inf (a token the sampler could never pick) becomes -9999, as
/// OpenAI sends it.
func wireLogprob(_ value: Float) -> Float {
    value.isFinite ? value : -9999
}
