import Testing
@testable import HostCore

/// The plugin skeleton printed in Specs/plugin-abi.md §12 is real: it compiles against the published header and
/// passes every check. This keeps the spec, the header and the checker in agreement.
@Suite struct SpecSkeletonTests {
    /// The first ```c block after the "## 12." heading.
    private func skeletonSource() -> String {
        let spec = Fixtures.read("Specs/plugin-abi.md")
        let section = spec.split(separator: "\n## 12.", maxSplits: 1).last ?? ""
        let afterFence = section.split(separator: "```c\n", maxSplits: 1).last ?? ""
        return String(afterFence.split(separator: "\n```", maxSplits: 1).first ?? "")
    }

    @Test func theSpecSkeletonPassesTheChecker() {
        let source = skeletonSource()
        #expect(source.contains("plexus_plugin_entry"))
        let path = Fixtures.file("spec_skeleton.c", contents: source)
        let plugin = Fixtures.plugin("spec-skeleton", source: path)
        let model = Fixtures.file("toy.gguf", contents: "GGUF\u{3}\0\0\0")
        let checker = PluginChecker(path: plugin, modelPath: model, threads: 2) { _ in }
        #expect(checker.run(), "\(checker.report.results.map(\.line))")
        #expect(checker.summary == "16 passed, 0 failed, 1 skipped")
    }
}
