/// A least-squares line through samples that fade: each older sample weighs 0.8 of the next. The scheduler learns
/// its step costs with it (`PrefillCostFit`, `DenoiseCostFit`).
struct DecayingLineFit {
    private var weight = 0.0, x = 0.0, x2 = 0.0, y = 0.0, xy = 0.0

    mutating func add(x sample: Double, y value: Double) {
        weight = 0.8 * weight + 1
        x = 0.8 * x + sample
        x2 = 0.8 * x2 + sample * sample
        y = 0.8 * y + value
        xy = 0.8 * xy + sample * value
    }

    var isEmpty: Bool { weight == 0 }
    var meanX: Double { x / weight }
    var meanY: Double { y / weight }
    /// The spread of the samples' x; the slope means something only when it is large enough for the caller.
    var variance: Double { x2 / weight - meanX * meanX }
    var slope: Double { (xy / weight - meanX * meanY) / variance }
}
