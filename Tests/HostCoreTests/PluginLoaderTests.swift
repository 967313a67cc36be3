import Glibc
import PluginABI
import Testing
@testable import HostCore

/// The loader keeps serving good plugins and refuses each bad one with one line naming the file.
@Suite struct PluginLoaderTests {
    private func loader() -> PluginLoader {
        PluginLoader(memory: HostMemory(), cpu: CPUDevice(threads: 2)) { _ in }
    }

    @Test func loadsTheGoodAndRefusesEachBadOneByName() {
        let folder = "\(Fixtures.directory)/mixed"
        let good = Fixtures.plugin("a-good", folder: folder)
        let duplicate = Fixtures.plugin("b-duplicate", folder: folder)  // same id as a-good, loaded second
        let major = Fixtures.plugin("c-major", defines: ["FIXTURE_MAJOR=2", "FIXTURE_ID=\"org.test.major\""], folder: folder)
        let initFails = Fixtures.plugin("d-init-fails", defines: ["FIXTURE_INIT_FAILS", "FIXTURE_ID=\"org.test.init\""], folder: folder)
        let noEntry = Fixtures.plugin("e-no-entry", defines: ["FIXTURE_NO_ENTRY"], folder: folder)
        let other = Fixtures.plugin("f-other", defines: ["FIXTURE_ID=\"org.test.other\""], folder: folder)

        let report = loader().loadAll(PluginSearchPath(directories: [folder]))

        #expect(report.plugins.map(\.library.path) == [good, other])
        #expect(report.plugins.allSatisfy { $0.isInitialized })
        let refused = Dictionary(uniqueKeysWithValues: report.refusals.map { ($0.path, $0.problem) })
        #expect(refused.count == 4)
        #expect(refused[duplicate]?.contains("plugin id 'org.plexus.test.counting' is already provided by \(good)") == true)
        #expect(refused[major]?.contains("ABI 2.\(PX_ABI_MINOR)") == true)
        #expect(refused[initFails] == "init failed: PX_ERR_UNSUPPORTED: this fixture always fails init")
        #expect(refused[noEntry]?.contains("not a Plexus plugin") == true)
        for refusal in report.refusals { #expect(refusal.description.hasPrefix(refusal.path + ": ")) }
    }

    @Test func searchPathOrderIsCommandLineThenEnvironmentThenExecutable() {
        let path = PluginSearchPath.resolve(commandLine: ["/a", "/b"], environment: ["PLEXUS_PLUGIN_PATH": "/c::/d"],
                                            executablePath: "/opt/plexus/bin/plexus")
        #expect(path.directories == ["/a", "/b", "/c", "/d", "/opt/plexus/bin", "/opt/plexus/bin/plugins"])
    }

    @Test func considersOnlyPluginFileNamesAndEachFileOnce() {
        let folder = "\(Fixtures.directory)/names"
        let plugin = Fixtures.plugin("named", folder: folder)
        _ = Fixtures.file("names/libother.so", contents: "x")
        _ = Fixtures.file("names/libplexus-.so", contents: "x")
        let files = PluginSearchPath(directories: [folder, folder + "/"]).pluginFiles()
        #expect(files == [plugin])
        #expect(PluginSearchPath.isPluginFileName("libplexus-llm.so"))
        #expect(!PluginSearchPath.isPluginFileName("libplexus-llm.so.1"))
    }

    @Test func aPluginCanBeInitializedAgainAfterDeinit() throws {
        let instance = try loader().load(path: Fixtures.plugin("good-reinit"))
        #expect(instance.deinitialize().isEmpty)
        #expect(!instance.isInitialized)
        try instance.initialize()
        #expect(instance.isInitialized)
        #expect(instance.deinitialize().isEmpty)
    }
}
