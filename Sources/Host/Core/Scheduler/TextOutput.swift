/// What one sequence's generated tokens become on the way out: text that never splits a UTF-8 character and
/// never shows a stop string, and OpenAI log-probability entries.
struct TextOutput {
    private let tokenizer: any Tokenizer
    private var detokenizer: IncrementalDetokenizer
    private var stops: StopStringMatcher
    private let wantLogprobs: Bool
    /// Tokens generated (end-of-generation tokens included), as usage counts them.
    private(set) var tokenCount = 0

    /// What a batch of new tokens released.
    struct Release {
        var text: String
        var logprobs: [TokenLogprob]
        /// A stop string matched: nothing more is released.
        var stopped: Bool
    }

    init(frontend: TextFrontend, stop: [String], logprobs: Bool) {
        tokenizer = frontend.tokenizer
        detokenizer = frontend.detokenizer()
        stops = StopStringMatcher(stops: stop)
        wantLogprobs = logprobs
    }

    var isStopped: Bool { stops.isStopped }

    /// Takes the tokens of one plugin output.
    mutating func accept(_ output: TokenOutput) -> Release {
        guard !stops.isStopped else { return Release(text: "", logprobs: [], stopped: true) }
        tokenCount += output.tokens.count
        let visible = output.tokens.filter { !tokenizer.isEndOfGeneration($0) }
        let released = stops.feed(detokenizer.feed(visible))
        return Release(text: released.text, logprobs: wantLogprobs ? logprobs(output) : [], stopped: released.stop != nil)
    }

    /// The text still held back, once the sequence has ended.
    mutating func finish() -> String {
        guard !stops.isStopped else { return "" }
        _ = stops.feed(detokenizer.finish())
        return stops.finish().text
    }

    private func logprobs(_ output: TokenOutput) -> [TokenLogprob] {
        output.tokens.indices.map { index in
            let token = output.tokens[index]
            let top = output.topTokens.flatMap { index < $0.count ? $0[index] : nil } ?? []
            let topValues = output.topLogprobs.flatMap { index < $0.count ? $0[index] : nil } ?? []
            let alternatives = zip(top, topValues).map { token, value in
                let bytes = tokenizer.piece(token, special: true)
                return TokenLogprob.Alternative(token: String(decoding: bytes, as: UTF8.self), bytes: bytes, logprob: value)
            }
            let bytes = tokenizer.piece(token, special: true)
            let value = output.logprobs.flatMap { index < $0.count ? $0[index] : nil } ?? 0
            return TokenLogprob(token: String(decoding: bytes, as: UTF8.self), bytes: bytes, logprob: value, top: alternatives)
        }
    }
}
