import Glibc
import HostCore
import Testing

/// The real model files (fetched by scripts/fetch-models into $PLEXUS_MODEL_CACHE or <package>/.cache/models).
/// A missing file fails the test with the command to run: CI fetches them, so a silent skip would hide a gap.
enum ModelFiles {
    static let smolLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let gemma3 = "gemma3-270m-Q4_K_M.gguf"

    /// The cache folder.
    static var cache: String {
        if let value = getenv("PLEXUS_MODEL_CACHE"), value.pointee != 0 { return String(cString: value) }
        return Fixtures.root + "/.cache/models"
    }

    /// The path of model `name`, or a failed requirement telling how to fetch it.
    static func path(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = cache + "/" + name
        try #require(access(path, R_OK) == 0,
                     "model file \(path) is missing: run scripts/fetch-models (or set PLEXUS_MODEL_CACHE)",
                     sourceLocation: sourceLocation)
        return path
    }

    /// The size of model `name`'s file in bytes.
    static func size(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
        var info = stat()
        try #require(stat(try path(name, sourceLocation: sourceLocation), &info) == 0, sourceLocation: sourceLocation)
        return UInt64(info.st_size)
    }

    /// Model `name`, opened.
    static func open(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> GGUFFile {
        try GGUFFile(path: path(name, sourceLocation: sourceLocation))
    }
}
