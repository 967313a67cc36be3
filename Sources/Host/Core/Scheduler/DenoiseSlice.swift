/// What one denoise unit of a step costs: the network runs once per unit over every image of the step, so a unit
/// costs `perUnit + perImage * images` seconds.
public struct DenoiseCost: Equatable, Sendable {
    public var perUnit: Double
    public var perImage: Double

    public init(perUnit: Double, perImage: Double) {
        self.perUnit = perUnit
        self.perImage = perImage
    }

    /// Seconds of one unit over `images` images.
    public func seconds(images: Int) -> Double { perUnit + perImage * Double(images) }
}

/// How many denoise units one sliced step runs: what fits `seconds` at the model's measured cost for the step's
/// images (at least 1; 1 before anything was measured, which measures it).
public struct DenoiseSlice: Equatable, Sendable {
    public var seconds: Double
    public var cost: DenoiseCost?
    /// Exactly this many units a slice, whatever the cost (tests of the plan).
    private var fixedUnits: Int?

    public init(seconds: Double, cost: DenoiseCost?) {
        self.seconds = seconds
        self.cost = cost
    }

    /// A slice of exactly `units` units (for tests of the plan).
    public static func fixed(_ units: Int) -> DenoiseSlice {
        var slice = DenoiseSlice(seconds: 0, cost: nil)
        slice.fixedUnits = units
        return slice
    }

    /// Units of `slices` slices over `images` images.
    func units(images: Int, slices: Int = 1) -> Int {
        if let fixedUnits { return fixedUnits * slices }
        guard let cost else { return 1 }
        let perUnit = cost.seconds(images: max(images, 1))
        guard perUnit > 0, perUnit.isFinite else { return 1 }
        return max(1, Int(min(1e6, seconds * Double(slices) / perUnit + 1e-9)))
    }
}

/// Learns a model's `DenoiseCost` from its steps: a least-squares line of seconds per unit against images per
/// unit, recent steps weighing more (each older one 0.8 of the next); with one batch size seen so far, the average
/// cost per unit at that size.
struct DenoiseCostFit {
    /// Seconds per unit against images per unit.
    private var line = DecayingLineFit()

    /// Adds a step that ran `units` units (the most any item ran) over `imageUnits` image-units in `seconds`.
    mutating func add(seconds: Double, units: Int, imageUnits: Int) {
        guard units > 0, imageUnits > 0, seconds > 0, seconds.isFinite else { return }
        line.add(x: Double(imageUnits) / Double(units), y: seconds / Double(units))
    }

    var estimate: DenoiseCost? {
        guard !line.isEmpty else { return nil }
        let meanX = line.meanX, meanY = line.meanY
        // One batch size seen so far, or costs that fall with more images (noise): the average per image stands.
        let flat = DenoiseCost(perUnit: 0, perImage: meanY / max(meanX, 1))
        guard line.variance > 1e-9 * max(1, meanX * meanX) else { return flat }
        let slope = line.slope
        guard slope > 0 else { return flat }
        return DenoiseCost(perUnit: max(0, meanY - slope * meanX), perImage: slope)
    }
}
