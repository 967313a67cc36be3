/// One text generation as the API asks for it, already validated for types and ranges.
public struct GenerationRequest: Sendable {
    /// What the model continues.
    public enum Prompt: Sendable, Equatable {
        /// Rendered with the model's own chat template (add_generation_prompt).
        case chat([ChatMessage])
        /// A completion prompt, tokenized as the model's vocabulary asks (BOS where it adds one).
        case text(String)
        /// Token ids as given.
        case tokens([Int32])
    }

    /// Scheduling class: interactive requests go before batch ones.
    public enum Priority: String, Sendable {
        case interactive, batch
    }

    /// The shape the output must have (OpenAI response_format).
    public enum ResponseFormat: Sendable, Equatable {
        case text
        /// Any single JSON object.
        case jsonObject
        /// JSON that validates against `schema` (the JSON Schema as JSON text).
        case jsonSchema(name: String, schema: String, strict: Bool)
    }

    /// A model id or alias.
    public var model: String
    public var prompt: Prompt
    /// Tokens to generate at most; nil = until the context is full.
    public var maxTokens: Int?
    public var temperature: Float = 1
    public var topP: Float = 1
    public var topK: Int = 0
    public var minP: Float = 0
    public var repetitionPenalty: Float = 1
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    /// nil = a fresh random seed.
    public var seed: UInt64?
    /// Stop strings (never part of the output), matched across token boundaries.
    public var stop: [String] = []
    /// Extra token ids that end the sequence.
    public var stopTokenIDs: [Int32] = []
    /// Keep going past end-of-generation tokens.
    public var ignoreEOS = false
    /// Report each token's log-probability, with this many alternatives.
    public var logprobs = false
    public var topLogprobs = 0
    /// Echo the prompt's text before the output (completions `echo`).
    public var echo = false
    /// Output constrained to this format, token by token.
    public var responseFormat: ResponseFormat = .text
    /// The request's class; nil: the model's (the catalog's `priority`, interactive by default).
    public var priority: Priority?
    /// The API key that asked (for fair share and metering), if any.
    public var apiKey: String?
    /// The key's share of the device against other keys: its device seconds count 1 / keyWeight against it.
    public var keyWeight = 1.0
    /// Seconds (monotonic clock, `MonotonicClock.seconds()`) by which the generation must have started: a request
    /// still waiting then ends with `deadlineExceeded` and costs no device time. Within its key and class, an
    /// earlier deadline is admitted first.
    public var deadline: Double?

    public init(model: String, prompt: Prompt) {
        self.model = model
        self.prompt = prompt
    }
}
