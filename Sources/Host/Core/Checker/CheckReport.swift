/// The outcome of one contract check.
public enum CheckOutcome: Sendable, Equatable {
    case pass(String)
    case fail(String)
    case skip(String)
}

/// One line of `plexus plugin check`.
public struct CheckResult: Sendable, Equatable {
    public var name: String
    public var outcome: CheckOutcome

    /// "PASS name: detail" / "FAIL name: reason" / "SKIP name: reason".
    public var line: String {
        switch outcome {
        case .pass(let detail): return detail.isEmpty ? "PASS \(name)" : "PASS \(name): \(detail)"
        case .fail(let reason): return "FAIL \(name): \(reason)"
        case .skip(let reason): return "SKIP \(name): \(reason)"
        }
    }
}

/// Collects results as the checks run and hands each line out at once (so a crash loses nothing printed).
final class CheckReport {
    private(set) var results: [CheckResult] = []
    private let output: (CheckResult) -> Void

    init(output: @escaping (CheckResult) -> Void) { self.output = output }

    func record(_ name: String, _ outcome: CheckOutcome) {
        let result = CheckResult(name: name, outcome: outcome)
        results.append(result)
        output(result)
    }

    func pass(_ name: String, _ detail: String = "") { record(name, .pass(detail)) }
    func fail(_ name: String, _ reason: String) { record(name, .fail(reason)) }
    func skip(_ name: String, _ reason: String) { record(name, .skip(reason)) }

    /// Records pass or fail from a list of problems (none = pass).
    func expect(_ name: String, problems: [String], detail: String = "") {
        if problems.isEmpty { pass(name, detail) } else { fail(name, problems.joined(separator: "; ")) }
    }

    var failures: Int { results.filter { if case .fail = $0.outcome { true } else { false } }.count }
    var passes: Int { results.filter { if case .pass = $0.outcome { true } else { false } }.count }
    var skips: Int { results.filter { if case .skip = $0.outcome { true } else { false } }.count }

    /// The closing line: "N passed, N failed, N skipped".
    var summary: String { "\(passes) passed, \(failures) failed, \(skips) skipped" }
}
