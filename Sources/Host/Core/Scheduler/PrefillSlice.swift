/// A model's prefill cost per prompt token at context position p: `perToken + perPosition * p` seconds (the
/// products cost the same at every position; attention grows with the context already in the KV cache).
public struct PrefillCost: Equatable, Sendable {
    public var perToken: Double
    public var perPosition: Double

    public init(perToken: Double, perPosition: Double = 0) {
        self.perToken = perToken
        self.perPosition = perPosition
    }

    /// Seconds to feed `count` tokens from position `start`.
    public func seconds(from start: Int, count: Int) -> Double {
        Double(count) * (perToken + perPosition * (Double(start) + Double(count) / 2))
    }
}

/// How many prompt tokens one sliced step feeds: what fits `seconds` at the model's measured cost from the chunk's
/// position (16 to 512; 16 before anything was measured, the smallest step that gets measured).
public struct PrefillSlice: Equatable, Sendable {
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

    /// Tokens of `slices` slices from position `start`: the n with cost.seconds(from: start, count: n) = budget.
    func tokens(from start: Int, slices: Int = 1) -> Int {
        if let fixedTokens { return fixedTokens * slices }
        guard let cost, cost.perToken > 0 || cost.perPosition > 0 else { return 16 * slices }
        let budget = seconds * Double(slices)
        // n * (k + b n / 2) = budget, with k the cost per token at `start`.
        let k = cost.perToken + cost.perPosition * Double(start), b = cost.perPosition
        let n = b > 0 ? (-k + (k * k + 2 * b * budget).squareRoot()) / b : budget / k
        guard n.isFinite else { return 16 * slices }
        return Int(min(Double(512 * slices), max(Double(16 * slices), (n + 1e-9).rounded(.down))))
    }
}

/// Learns a model's `PrefillCost` from its steps: a least-squares line of seconds per token against the step's
/// mean position, over recent steps (each older step weighs 0.8 of the next). Steps under 16 tokens are not
/// measured (decode steps: their cost is not prefill's).
struct PrefillCostFit {
    private var weight = 0.0, position = 0.0, position2 = 0.0, cost = 0.0, positionCost = 0.0

    /// Adds a step that fed `tokens` at mean position `meanPosition` in `seconds`.
    mutating func add(seconds: Double, tokens: Int, meanPosition: Double) {
        guard tokens >= 16, seconds > 0, seconds.isFinite else { return }
        let c = seconds / Double(tokens), m = meanPosition
        weight = 0.8 * weight + 1
        position = 0.8 * position + m
        position2 = 0.8 * position2 + m * m
        cost = 0.8 * cost + c
        positionCost = 0.8 * positionCost + m * c
    }

    /// The fitted cost; the slope only when the steps' positions spread over 64+ tokens and it is not negative (a
    /// flat average otherwise); nil before the first measured step.
    var estimate: PrefillCost? {
        guard weight > 0 else { return nil }
        let meanM = position / weight, meanC = cost / weight
        let variance = position2 / weight - meanM * meanM
        guard variance > 64 * 64 else { return PrefillCost(perToken: meanC) }
        let slope = max(0, (positionCost / weight - meanM * meanC) / variance)
        // Never below a tenth of the mean: a steep local slope must not promise nearly free tokens at position 0.
        let intercept = max(meanC - slope * meanM, 0.1 * meanC)
        return PrefillCost(perToken: intercept, perPosition: slope)
    }
}
