import Synchronization

/// One generated token's log-probability, with its most likely alternatives (OpenAI's logprobs content entry).
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var bytes: [UInt8]
        public var logprob: Float
        public init(token: String, bytes: [UInt8], logprob: Float) {
            self.token = token
            self.bytes = bytes
            self.logprob = logprob
        }
    }

    /// The token's text (its bytes decoded leniently) and its exact bytes.
    public var token: String
    public var bytes: [UInt8]
    public var logprob: Float
    public var top: [Alternative]

    public init(token: String, bytes: [UInt8], logprob: Float, top: [Alternative]) {
        self.token = token
        self.bytes = bytes
        self.logprob = logprob
        self.top = top
    }
}

/// Why a generation ended, as OpenAI names it.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// max_tokens reached, or the context is full.
    case length
    /// The client went away or cancelled.
    case cancelled
}

/// Token counts of a finished generation; prompt tokens are what the model actually consumed.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Device time attributed to the generation: its share of every step it was in, by tokens fed
    /// (Specs/scheduler.md, "Metering").
    public var deviceSeconds: Double
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int, deviceSeconds: Double = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.deviceSeconds = deviceSeconds
    }
}

/// One generated image: 8-bit RGB, row-major, `width * height * 3` bytes.
public struct GeneratedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8]) {
        self.width = width
        self.height = height
        self.rgb = rgb
    }
}

/// What a generation reports, in order: `.started` once, `.text` (token models) or `.image` (image models) any
/// number of times, then exactly one of `.finished` or `.failed`, after which the stream ends.
public enum GenerationEvent: Sendable, Equatable {
    /// The prompt is tokenized and queued; `promptTokens` is its length (0 for an image request).
    case started(promptTokens: Int)
    /// New output text (never half a UTF-8 character, never part of a stop string) and the tokens that made it.
    case text(String, logprobs: [TokenLogprob])
    /// Image number `index` of an image request, complete.
    case image(index: Int, GeneratedImage)
    case finished(FinishReason, Usage)
    case failed(ServiceError)
}

/// A running generation: its events, and a way to cancel it (effective at the next step boundary).
public final class GenerationHandle: Sendable {
    public let id: UInt64
    public let events: AsyncStream<GenerationEvent>
    private let onCancel: Mutex<(@Sendable () -> Void)?>

    public init(id: UInt64, events: AsyncStream<GenerationEvent>, onCancel: @escaping @Sendable () -> Void) {
        self.id = id
        self.events = events
        self.onCancel = Mutex(onCancel)
    }

    /// Asks the scheduler to stop this generation; it ends with `.finished(.cancelled, ...)`. Idempotent.
    public func cancel() {
        let action = onCancel.withLock { action -> (@Sendable () -> Void)? in
            defer { action = nil }
            return action
        }
        action?()
    }
}
