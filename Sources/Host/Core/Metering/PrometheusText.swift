/// Writes metrics in the Prometheus text exposition format (version 0.0.4).
struct PrometheusText {
    private(set) var text = ""
    private var described: Set<String> = []

    /// Writes the HELP and TYPE lines of `name` once.
    mutating func describe(_ name: String, type: String, help: String) {
        guard described.insert(name).inserted else { return }
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, labels: [(String, String)], value: Double) {
        text += name + Self.labels(labels) + " " + Self.number(value) + "\n"
    }

    mutating func histogram(_ name: String, labels: [(String, String)], _ histogram: LatencyHistogram) {
        var cumulative = 0
        for (index, bound) in LatencyHistogram.bounds.enumerated() {
            cumulative += histogram.counts[index]
            sample(name + "_bucket", labels: labels + [("le", Self.number(bound))], value: Double(cumulative))
        }
        sample(name + "_bucket", labels: labels + [("le", "+Inf")], value: Double(histogram.count))
        sample(name + "_sum", labels: labels, value: histogram.sum)
        sample(name + "_count", labels: labels, value: Double(histogram.count))
    }

    static func labels(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// A label value with backslash, quote and newline escaped.
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, others with enough digits to round-trip.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// Counts of latencies (seconds) in fixed buckets from 1 ms to 60 s, with their sum.
struct LatencyHistogram: Sendable {
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    private(set) var counts = [Int](repeating: 0, count: LatencyHistogram.bounds.count)
    private(set) var count = 0
    private(set) var sum = 0.0

    mutating func observe(_ seconds: Double) {
        count += 1
        sum += seconds
        if let index = Self.bounds.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
    }
}
