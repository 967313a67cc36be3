import HostCore

/// The request fields chat and text completions share (sampling, stopping, streaming, fan-out), decoded from the
/// same JSON object as the request that holds them, and validated into a `GenerationRequest`.
struct SamplingFields: Decodable, Sendable {
    /// Limits of the API; each names itself in the error that enforces it.
    enum Limits {
        static let maxTokens = 10_000_000
        static let maxStops = 4
        static let maxTopLogprobs = 20
    }

    var stream: Bool?
    var streamOptions: StreamOptions?
    var n: Int?
    var stop: StringOrList?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var temperature: Double?
    var topP: Double?
    var seed: Int64?
    var topK: Int?
    var minP: Double?
    var repetitionPenalty: Double?
    var frequencyPenalty: Double?
    var presencePenalty: Double?
    var stopTokenIDs: [Int32]?
    var ignoreEOS: Bool?
    /// OpenAI's `service_tier`: "flex" runs as batch work (Specs/api.md), "default" and "priority" as interactive,
    /// "auto" (or absent) in the model's own class.
    var serviceTier: String?

    struct StreamOptions: Decodable, Sendable {
        var includeUsage: Bool?
        private enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    private enum CodingKeys: String, CodingKey {
        case stream, n, stop, temperature, seed
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case repetitionPenalty = "repetition_penalty"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case serviceTier = "service_tier"
    }

    var isStreaming: Bool { stream ?? false }
    var includeUsage: Bool { streamOptions?.includeUsage ?? false }

    /// The number of generations, checked against `limit`.
    func choices(limit: Int) throws(APIError) -> Int {
        let n = self.n ?? 1
        guard (1...limit).contains(n) else {
            throw .invalid("n must be between 1 and \(limit) (got \(n)).", param: "n")
        }
        return n
    }

    /// Copies the validated fields into `request`.
    func apply(to request: inout GenerationRequest) throws(APIError) {
        request.maxTokens = try tokenLimit()
        request.temperature = try Self.check(temperature, "temperature", 0...2, default: 1)
        if let topP, !(topP > 0 && topP <= 1) {
            throw .invalid("top_p must be in (0, 1] (got \(topP)).", param: "top_p")
        }
        request.topP = Float(topP ?? 1)
        if let topK, topK < -1 { throw .invalid("top_k must be >= 0, or -1 for no limit (got \(topK)).", param: "top_k") }
        request.topK = max(0, topK ?? 0)
        request.minP = try Self.check(minP, "min_p", 0...1, default: 0)
        if let repetitionPenalty, !(repetitionPenalty > 0 && repetitionPenalty <= 10) {
            throw .invalid("repetition_penalty must be in (0, 10] (got \(repetitionPenalty)).",
                           param: "repetition_penalty")
        }
        request.repetitionPenalty = Float(repetitionPenalty ?? 1)
        request.frequencyPenalty = try Self.check(frequencyPenalty, "frequency_penalty", -2...2, default: 0)
        request.presencePenalty = try Self.check(presencePenalty, "presence_penalty", -2...2, default: 0)
        request.seed = seed.map { UInt64(bitPattern: $0) }
        request.stop = try stopStrings()
        request.stopTokenIDs = stopTokenIDs ?? []
        request.ignoreEOS = ignoreEOS ?? false
        request.priority = try Self.priority(serviceTier)
    }

    /// The class `service_tier` asks for (nil: the model's).
    static func priority(_ serviceTier: String?) throws(APIError) -> GenerationRequest.Priority? {
        switch serviceTier {
        case nil, "auto": return nil
        case "default", "priority": return .interactive
        case "flex": return .batch
        case let tier?:
            throw .invalid("service_tier must be auto, default, flex or priority (got '\(tier)').", param: "service_tier")
        }
    }

    private func tokenLimit() throws(APIError) -> Int? {
        // max_completion_tokens is the newer name; when both are sent it wins, as in OpenAI's API.
        let (value, param) = maxCompletionTokens.map { ($0, "max_completion_tokens") } ?? (maxTokens, "max_tokens")
        guard let value else { return nil }
        guard (1...Limits.maxTokens).contains(value) else {
            throw .invalid("\(param) must be between 1 and \(Limits.maxTokens) (got \(value)).", param: param)
        }
        return value
    }

    private func stopStrings() throws(APIError) -> [String] {
        let stops = stop?.values ?? []
        guard stops.count <= Limits.maxStops else {
            throw .invalid("stop takes at most \(Limits.maxStops) sequences (got \(stops.count)).", param: "stop")
        }
        guard !stops.contains("") else { throw .invalid("stop sequences must not be empty.", param: "stop") }
        return stops
    }

    private static func check(_ value: Double?, _ name: String, _ range: ClosedRange<Double>,
                              default fallback: Float) throws(APIError) -> Float {
        guard let value else { return fallback }
        guard range.contains(value) else {
            throw .invalid("\(name) must be between \(range.lowerBound) and \(range.upperBound) (got \(value)).",
                           param: name)
        }
        return Float(value)
    }

    /// The seed of choice `index`: seed + index, so n choices with one seed differ yet repeat exactly.
    static func seed(_ base: UInt64?, choice index: Int) -> UInt64? {
        base.map { $0 &+ UInt64(index) }
    }
}
