/// What a step of a model costs: `perStep` seconds whatever it feeds (on a CPU, reading every weight once: a
/// Gemma 3 270M step costs ~14 ms for one token or for seven), plus `perToken + perPosition * p` seconds per prompt
/// token at context position p (the products cost the same at every position; attention grows with the context).
public struct PrefillCost: Equatable, Sendable {
    public var perStep: Double
    public var perToken: Double
    public var perPosition: Double

    public init(perStep: Double = 0, perToken: Double, perPosition: Double = 0) {
        self.perStep = perStep
        self.perToken = perToken
        self.perPosition = perPosition
    }

    /// Seconds of a step that feeds `count` tokens from position `start`.
    public func seconds(from start: Int, count: Int) -> Double {
        perStep + Double(count) * (perToken + perPosition * (Double(start) + Double(count) / 2))
    }
}

/// How many prompt tokens one sliced step feeds: what fits `seconds` at the model's measured cost from the chunk's
/// position (4 to 512; 16 before anything was measured, the smallest step that gets measured).
public struct PrefillSlice: Equatable, Sendable {
    /// The fewest tokens a measured slice feeds: on a CPU one Gemma 3 270M prompt token costs about 1.2 ms, so a
    /// floor of 16 made every slice ~20-25 ms whatever its time said.
    static let minimumTokens = 4

    public var seconds: Double
    public var cost: PrefillCost?
    /// Exactly this many tokens a slice, whatever the cost (tests of the plan).
    private var fixedTokens: Int?

    public init(seconds: Double, cost: PrefillCost?) {
        self.seconds = seconds
        self.cost = cost
    }

    /// A slice of exactly `tokens` at every position (for tests of the plan).
    public static func fixed(_ tokens: Int) -> PrefillSlice {
        var slice = PrefillSlice(seconds: 0, cost: nil)
        slice.fixedTokens = tokens
        return slice
    }

    /// A prompt's last tokens are never cut smaller than this: a short prompt goes in one step (on a CPU its own
    /// step cost dominates: cutting a 14-token Gemma prompt into 4-token slices made its time to first token 2-4x
    /// longer in the several-models benchmark, for a few ms less wait elsewhere).
    static let wholeTokens = 16

    /// Tokens of `slices` slices from position `start`, of a prompt with `pending` tokens left: all of them when at
    /// most `wholeTokens`, else the n with cost.seconds(from: start, count: n) = budget.
    func tokens(from start: Int, pending: Int = .max, slices: Int = 1) -> Int {
        if let fixedTokens { return fixedTokens * slices }
        if pending <= Self.wholeTokens { return pending }
        guard let cost, cost.perToken > 0 || cost.perPosition > 0 else { return 16 * slices }
        // The step's own cost comes first; a slice shorter than it still feeds the fewest tokens.
        let budget = seconds * Double(slices) - cost.perStep
        guard budget > 0 else { return Self.minimumTokens * slices }
        // n * (k + b n / 2) = budget, with k the cost per token at `start`.
        let k = cost.perToken + cost.perPosition * Double(start), b = cost.perPosition
        let n = b > 0 ? (-k + (k * k + 2 * b * budget).squareRoot()) / b : budget / k
        guard n.isFinite else { return 16 * slices }
        return Int(min(Double(512 * slices), max(Double(Self.minimumTokens * slices), (n + 1e-9).rounded(.down))))
    }
}

/// Learns a model's `PrefillCost` from its steps (recent steps weigh more: each older one 0.8 of the next).
/// The per-step cost is the average of steps that fed one token per sequence and at most 2 tokens (decode); the
/// per-token line is a least-squares line of (seconds - per-step cost) / tokens against the step's mean position,
/// over steps of 8 or more tokens.
struct PrefillCostFit {
    private var decodeWeight = 0.0, decodeSeconds = 0.0
    /// Cost per token against the step's mean position.
    private var line = DecayingLineFit()

    /// Adds a step that fed `tokens` (`decodeOnly`: one token per sequence) at mean position `meanPosition`.
    mutating func add(seconds: Double, tokens: Int, meanPosition: Double, decodeOnly: Bool = false) {
        guard tokens > 0, seconds > 0, seconds.isFinite else { return }
        if decodeOnly && tokens <= 2 {
            decodeWeight = 0.8 * decodeWeight + 1
            decodeSeconds = 0.8 * decodeSeconds + seconds
            return
        }
        guard tokens >= 8 else { return }
        line.add(x: meanPosition, y: max(0, seconds - perStep) / Double(tokens))
    }

    private var perStep: Double { decodeWeight > 0 ? decodeSeconds / decodeWeight : 0 }

    /// The fitted cost; the slope only when the steps' positions spread over 64+ tokens and it is not negative (a
    /// flat average otherwise); nil before the first prefill step of 8+ tokens.
    var estimate: PrefillCost? {
        guard !line.isEmpty else { return nil }
        let meanM = line.meanX, meanC = line.meanY
        guard line.variance > 64 * 64 else { return PrefillCost(perStep: perStep, perToken: meanC) }
        let slope = max(0, line.slope)
        // Never below a tenth of the mean: a steep local slope must not promise nearly free tokens at position 0.
        let intercept = max(meanC - slope * meanM, 0.1 * meanC)
        return PrefillCost(perStep: perStep, perToken: intercept, perPosition: slope)
    }
}
