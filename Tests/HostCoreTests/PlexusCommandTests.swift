import Testing
import PluginABI
@testable import HostCore

/// The `plexus` executable end to end: `plugin check` (with crash isolation) and `plugin list`, as users run them.
@Suite struct PlexusCommandTests {
    @Test func checkPassesAGoodPluginWithExitZero() {
        let (ending, lines) = Fixtures.run([Fixtures.executable, "plugin", "check", Fixtures.plugin("cli-good"),
                                            "--model", Fixtures.modelFile, "--option", "vocab=1000"])
        #expect(ending == .exited(0), "\(lines)")
        #expect(lines.last == "16 passed, 0 failed, 1 skipped")
        #expect(lines.contains("PASS model loads: LLM 'counting' in 0.00 s"))
    }

    @Test func aCrashingPluginFailsTheCheckInsteadOfTheChecker() {
        let (ending, lines) = Fixtures.run([Fixtures.executable, "plugin", "check",
                                            Fixtures.plugin("cli-crashes", defines: ["FIXTURE_CRASHES"]), "--model", Fixtures.modelFile])
        #expect(ending == .exited(1))
        let crash = lines.first { $0.hasPrefix("FAIL plugin crashed") }
        #expect(crash?.contains("signal 11") == true, "\(lines)")
        #expect(crash?.contains("model_create refuses an unknown option") == true)
    }

    @Test func aBadOptionValueIsRefusedWithTheKeyNamed() {
        let (ending, lines) = Fixtures.run([Fixtures.executable, "plugin", "check", Fixtures.plugin("cli-option"),
                                            "--model", Fixtures.modelFile, "--option", "vocab=-3"])
        #expect(ending == .exited(1))
        #expect(lines.contains("FAIL model loads: model_create: PX_ERR_INVALID_ARGUMENT: option vocab='-3' must be an integer in 2...65536"))
    }

    @Test func usageErrorsExitTwo() {
        #expect(Fixtures.run([Fixtures.executable, "plugin", "check"]).ending == .exited(2))
        #expect(Fixtures.run([Fixtures.executable, "plugin", "check", "x.so", "--threads", "0"]).ending == .exited(2))
        #expect(Fixtures.run([Fixtures.executable, "frobnicate"]).ending == .exited(2))
        #expect(Fixtures.run([Fixtures.executable, "plugin", "--help"]).ending == .exited(0))
    }

    @Test func listShowsServingPluginsAndOneLinePerRefusal() {
        let folder = "\(Fixtures.directory)/cli-list"
        let good = Fixtures.plugin("list-good", folder: folder)
        let bad = Fixtures.plugin("list-major", defines: ["FIXTURE_MAJOR=7"], folder: folder)
        let (ending, lines) = Fixtures.run([Fixtures.executable, "plugin", "list", "--plugins", folder])
        #expect(ending == .exited(0))
        #expect(lines.contains("org.plexus.test.counting\t1.0.0\tCounting fixture\t\(good)"))
        #expect(lines.contains("plexus: refused plugin \(bad): built for Plexus ABI 7.\(PX_ABI_MINOR); this host speaks ABI 1.x"))
    }
}
