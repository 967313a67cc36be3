/// One benchmark figure, optionally compared with a peer measured in the same run.
public struct BenchResult: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var unit: String
    /// The same quantity for the peer (raw driver call, plain memcpy, Dispatch...), if any.
    public var peerName: String?
    public var peerValue: Double?
    /// A note, e.g. "goal >= 0.8 of the link".
    public var note: String = ""
    public var failed = false

    public init(name: String, value: Double, unit: String, peerName: String? = nil, peerValue: Double? = nil, note: String = "") {
        self.name = name
        self.value = value
        self.unit = unit
        self.peerName = peerName
        self.peerValue = peerValue
        self.note = note
    }

    /// value / peer value.
    public var ratio: Double? {
        guard let peerValue, peerValue != 0 else { return nil }
        return value / peerValue
    }

    /// Rows of a plain-text table.
    public static func table(_ results: [BenchResult]) -> [String] {
        var lines = ["benchmark | value | peer | ratio | note", "---|---|---|---|---"]
        for r in results {
            let peer = r.peerValue.map { "\(r.peerName ?? "peer"): \(FixedPoint.format($0, 3)) \(r.unit)" } ?? ""
            let ratio = r.ratio.map { FixedPoint.format($0, 3) + "x" } ?? ""
            lines.append("\(r.name) | \(FixedPoint.format(r.value, 3)) \(r.unit) | \(peer) | \(ratio) | \(r.note)")
        }
        return lines
    }

    /// One JSON array of results.
    public static func json(_ results: [BenchResult]) -> String {
        func quote(_ text: String) -> String {
            "\"" + text.unicodeScalars.map { $0 == "\"" ? "\\\"" : $0 == "\\" ? "\\\\" : String($0) }.joined() + "\""
        }
        let items = results.map { r -> String in
            var fields = ["\"name\": \(quote(r.name))", "\"value\": \(r.value)", "\"unit\": \(quote(r.unit))"]
            if let peer = r.peerValue { fields += ["\"peer\": \(quote(r.peerName ?? "peer"))", "\"peer_value\": \(peer)"] }
            if let ratio = r.ratio { fields.append("\"ratio\": \(ratio)") }
            if !r.note.isEmpty { fields.append("\"note\": \(quote(r.note))") }
            return "{" + fields.joined(separator: ", ") + "}"
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
