import PluginABI
import Testing
@testable import HostCore

/// Opening libraries: the descriptor checks, each proven by a fixture broken in one way.
@Suite struct PluginLibraryTests {
    @Test func opensAWellFormedPlugin() throws {
        let library = try PluginLibrary.open(path: Fixtures.plugin("good"))
        #expect(library.descriptor.id == "org.plexus.test.counting")
        #expect(library.descriptor.name == "Counting fixture")
        #expect(library.descriptor.abiMajor == 1)
        #expect(library.descriptor.negotiatedMinor == UInt32(PX_ABI_MINOR)) // the fixture is built with the same header
    }

    @Test(arguments: [
        ("no-entry", ["FIXTURE_NO_ENTRY"], "exports no 'plexus_plugin_entry' symbol"),
        ("major-2", ["FIXTURE_MAJOR=2"], "built for Plexus ABI 2.\(PX_ABI_MINOR); this host speaks ABI 1.x"),
        ("small-entry", ["FIXTURE_SMALL_ENTRY"], "px_entry is 8 bytes, smaller than ABI 1.0's 80"),
        ("bad-id", ["FIXTURE_ID=\"Org.Bad Id\""], "plugin id is missing or not 1-128 characters"),
    ])
    func refusesABrokenLibrary(name: String, defines: [String], problem: String) {
        let path = Fixtures.plugin(name, defines: defines)
        #expect(throws: PluginLoadError.self) { try PluginLibrary.open(path: path) }
        do {
            _ = try PluginLibrary.open(path: path)
        } catch {
            #expect(error.path == path)
            #expect(error.problem.contains(problem), "\(error.problem)")
        }
    }

    @Test func refusesAFileThatIsNotALibrary() {
        let path = Fixtures.file("libplexus-text.so", contents: "just text, not ELF")
        do {
            _ = try PluginLibrary.open(path: path)
            Issue.record("a text file was accepted as a plugin")
        } catch {
            #expect(error.problem.hasPrefix("not a loadable shared library"), "\(error.problem)")
        }
    }

    @Test func readsStringsWithABound() {
        let long = String(repeating: "a", count: 300)
        let text = long.withCString { PluginLibrary.string($0) }
        #expect(text == nil)
        #expect("org.plexus.llm".withCString { PluginLibrary.string($0) } == "org.plexus.llm")
        #expect(PluginLibrary.isValidID("org.plexus.llm-2_x"))
        #expect(!PluginLibrary.isValidID("Org.Plexus"))
        #expect(!PluginLibrary.isValidID(""))
    }
}
