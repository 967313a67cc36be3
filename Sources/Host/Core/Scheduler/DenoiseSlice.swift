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
    private var weight = 0.0, images = 0.0, images2 = 0.0, cost = 0.0, imagesCost = 0.0

    /// Adds a step that ran `units` units (the most any item ran) over `imageUnits` image-units in `seconds`.
    mutating func add(seconds: Double, units: Int, imageUnits: Int) {
        guard units > 0, imageUnits > 0, seconds > 0, seconds.isFinite else { return }
        let x = Double(imageUnits) / Double(units), y = seconds / Double(units)
        weight = 0.8 * weight + 1
        images = 0.8 * images + x
        images2 = 0.8 * images2 + x * x
        cost = 0.8 * cost + y
        imagesCost = 0.8 * imagesCost + x * y
    }

    var estimate: DenoiseCost? {
        guard weight > 0 else { return nil }
        let meanX = images / weight, meanY = cost / weight
        let variance = images2 / weight - meanX * meanX
        guard variance > 1e-9 * max(1, meanX * meanX) else { return DenoiseCost(perUnit: 0, perImage: meanY / max(meanX, 1)) }
        // Costs never fall with more images: a negative slope is noise, and then the average per image stands.
        let slope = (imagesCost / weight - meanX * meanY) / variance
        guard slope > 0 else { return DenoiseCost(perUnit: 0, perImage: meanY / max(meanX, 1)) }
        return DenoiseCost(perUnit: max(0, meanY - slope * meanX), perImage: slope)
    }
}
