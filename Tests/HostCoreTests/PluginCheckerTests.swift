import Testing
@testable import HostCore

/// The contract checker passes a conforming plugin and catches each way the fixtures break the contract.
@Suite struct PluginCheckerTests {
    /// Runs the checker in-process; returns the results by check name.
    private func check(_ name: String, defines: [String] = [], model: Bool = true) -> (passed: Bool, results: [String: CheckOutcome]) {
        let checker = PluginChecker(path: Fixtures.plugin(name, defines: defines),
                                    modelPath: model ? Fixtures.modelFile : nil, threads: 2) { _ in }
        let passed = checker.run()
        return (passed, Dictionary(checker.report.results.map { ($0.name, $0.outcome) }, uniquingKeysWith: { $1 }))
    }

    private func failures(_ results: [String: CheckOutcome]) -> [String] {
        results.compactMap { name, outcome in if case .fail = outcome { name } else { nil } }.sorted()
    }

    @Test func aConformingPluginPassesEveryCheck() {
        let (passed, results) = check("check-good")
        #expect(passed)
        #expect(failures(results).isEmpty)
        #expect(results["request runs to completion"] == .pass("4 tokens, LENGTH"))
        #expect(results["cancel ends a request with one FINAL(CANCELLED)"] == .pass("1 tokens, CANCELLED"))
        #expect(results["probe rejects a non-model file"] == .skip("the plugin has no probe"))
        #expect(results.count == 17)
    }

    @Test func withoutAModelTheModelChecksAreSkipped() {
        let (passed, results) = check("check-good-nomodel", model: false)
        #expect(passed)
        #expect(results["model loads"] == .skip("needs --model"))
        #expect(results["model_create refuses a garbage file"].map { if case .pass = $0 { true } else { false } } == true)
    }

    @Test(arguments: [
        ("FIXTURE_DOUBLE_FINAL", ["cancel ends a request with one FINAL(CANCELLED)", "request runs to completion", "two requests share a step"]),
        ("FIXTURE_IGNORES_CANCEL", ["cancel ends a request with one FINAL(CANCELLED)"]),
        ("FIXTURE_NO_FINAL", ["request runs to completion", "two requests share a step"]),
        ("FIXTURE_LEAKS", ["model_destroy releases every allocation"]),
        ("FIXTURE_PLUGIN_LEAK", ["deinit releases every plugin allocation", "init/deinit twice"]),
        ("FIXTURE_ACCEPTS_UNKNOWN_OPTIONS", ["model_create refuses an unknown option"]),
        ("FIXTURE_NO_MESSAGE", ["every failure carried a message"]),
        ("FIXTURE_INIT_FAILS", ["init/deinit twice"]),
        ("FIXTURE_SMALL_ENTRY", ["descriptor"]),
        ("FIXTURE_NO_ENTRY", ["descriptor"]),
    ])
    func eachBreakFailsExactlyItsChecks(flag: String, expected: [String]) {
        let name = "check-" + String(flag.lowercased().map { $0 == "_" ? "-" : $0 })
        let (passed, results) = check(name, defines: [flag])
        #expect(!passed)
        #expect(failures(results) == expected.sorted())
    }
}
