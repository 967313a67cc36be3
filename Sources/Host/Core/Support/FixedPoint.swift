/// Formats numbers for human output without Foundation's `String(format:)`.
public enum FixedPoint {
    /// `value` with exactly `digits` decimals, e.g. format(3.14159, 2) == "3.14".
    public static func format(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return String(value) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        var fraction = String(Int(scaled - Double(whole) * scale))
        while fraction.count < digits { fraction = "0" + fraction }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// A byte count in MiB with one decimal, e.g. mebibytes(1_572_864) == "1.5 MiB".
    public static func mebibytes(_ bytes: UInt64) -> String { "\(format(Double(bytes) / 1_048_576, 1)) MiB" }
}
