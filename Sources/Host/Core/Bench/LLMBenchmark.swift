/// `plexus bench --model`: prompt processing and generation speed as llama-bench reports them (pp<p>: a prompt of
/// p random tokens in one prefill; tg<n>: n single-token decode steps from an empty context), each repeated; with
/// batch sizes, tg<n>@b<b>: b sequences decoding together (one token each per step), aggregate tokens/s.
public struct LLMBenchmark {
    public struct Figure: Sendable {
        public var test: String
        public var tokensPerSecond: [Double]
        /// Sequences decoded together (nil for pp and the single-sequence tg).
        public var batch: Int?
        public var mean: Double { tokensPerSecond.reduce(0, +) / Double(max(tokensPerSecond.count, 1)) }
        public var deviation: Double {
            let m = mean
            let variance = tokensPerSecond.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(tokensPerSecond.count - 1, 1))
            return variance.squareRoot()
        }
    }

    public let session: ModelSession
    public let promptTokens: Int
    public let generatedTokens: Int
    public let repetitions: Int
    /// Batch sizes for the tg<n>@b<b> tests (empty: none).
    public let batches: [Int]

    public init(session: ModelSession, promptTokens: Int, generatedTokens: Int, repetitions: Int, batches: [Int] = []) {
        self.session = session
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.repetitions = repetitions
        self.batches = batches
    }

    /// KV pages the tests need at most (for `ModelSession.open`), assuming pages of at least 16 tokens.
    public static func kvPages(promptTokens: Int, generatedTokens: Int, batches: [Int]) -> UInt32 {
        let perSequence = (generatedTokens + 2 + 15) / 16
        return UInt32(max(1024, (promptTokens + generatedTokens + 15) / 16 + 1, (batches.max() ?? 1) * perSequence))
    }

    /// Runs a warm-up, then the repetitions of each test.
    public func run() throws(PluginError) -> [Figure] {
        let vocab = Int32(session.model.info.vocabSize)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func randomPrompt(_ count: Int) -> [Int32] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int32(truncatingIfNeeded: (state >> 33) % UInt64(vocab))
            }
        }
        _ = try session.runner.generate(prompt: randomPrompt(8), input: LLMRequestInput(promptTokenCount: 8, maxNewTokens: 2))
        var figures: [Figure] = []
        if promptTokens > 0 {
            var pp = Figure(test: "pp\(promptTokens)", tokensPerSecond: [])
            for _ in 0..<repetitions {
                let result = try session.runner.generate(prompt: randomPrompt(promptTokens),
                                                         input: LLMRequestInput(promptTokenCount: UInt32(promptTokens), maxNewTokens: 1))
                pp.tokensPerSecond.append(Double(promptTokens) / result.prefillSeconds)
            }
            figures.append(pp)
        }
        if generatedTokens > 0 {
            var tg = Figure(test: "tg\(generatedTokens)", tokensPerSecond: [])
            for _ in 0..<repetitions {
                // one prompt token, then generatedTokens - 1 decode steps: every step processes one token
                let result = try session.runner.generate(prompt: randomPrompt(1),
                                                         input: LLMRequestInput(promptTokenCount: 1, maxNewTokens: UInt32(generatedTokens)))
                tg.tokensPerSecond.append(Double(result.tokens.count) / (result.prefillSeconds + result.decodeSeconds))
            }
            figures.append(tg)
        }
        if generatedTokens > 0 {
            let decoder = BatchDecoder(model: session.model, stream: session.runner.stream)
            for batch in batches where batch > 0 {
                var figure = Figure(test: "tg\(generatedTokens)@b\(batch)", tokensPerSecond: [], batch: batch)
                for _ in 0..<repetitions {
                    let outcome = try decoder.decode(prompts: (0..<batch).map { _ in randomPrompt(1) },
                                                     input: LLMRequestInput(promptTokenCount: 1, maxNewTokens: UInt32(generatedTokens)))
                    figure.tokensPerSecond.append(Double(outcome.tokens) / outcome.seconds)
                }
                figures.append(figure)
            }
        }
        return figures
    }
}
