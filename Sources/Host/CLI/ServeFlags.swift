import Glibc
import HostAPI
import HostCore

/// The options of `plexus serve`, parsed once; a reload rebuilds the served set from them and the catalog file.
struct ServeFlags: Sendable {
    var models: [String] = []
    var catalogPath: String?
    var host: String?
    var port: String?
    var directories: [String] = []
    var options: [(String, String)] = []
    var threads: Int?
    var keys: [String] = []
    var origins: [String] = []
    var maxWaiting = 256
    var kvMiB: UInt64 = 256
    /// Weight memory the models share (nil: no limit, every model stays resident).
    var weightsMiB: UInt64?
    /// Where the engine's stream runs: every served model loads and steps there.
    var device: DeviceChoice = .cpu

    static func parse(_ arguments: ArgumentList) throws(UsageError) -> ServeFlags {
        var arguments = arguments
        var flags = ServeFlags()
        flags.models = try arguments.values("--model")
        flags.catalogPath = try arguments.value("--catalog")
        flags.host = try arguments.value("--host")
        flags.port = try arguments.value("--port")
        flags.directories = try arguments.values("--plugins")
        flags.options = try arguments.keyValues("--option")
        flags.threads = try arguments.threads()
        flags.keys = try arguments.values("--api-key")
        flags.origins = try arguments.values("--cors-origin")
        if let text = try arguments.value("--max-waiting") {
            guard let value = Int(text), value >= 0 else { throw UsageError("--max-waiting needs a count") }
            flags.maxWaiting = value
        }
        if let text = try arguments.value("--weights-mib") {
            guard let value = UInt64(text), value > 0, value < 1 << 30 else { throw UsageError("--weights-mib needs a size in MiB") }
            flags.weightsMiB = value
        }
        if let text = try arguments.value("--kv-mib") {
            guard let value = UInt64(text), value > 0, value < 1 << 30 else { throw UsageError("--kv-mib needs a size in MiB") }
            flags.kvMiB = value
        }
        flags.device = try arguments.device()
        try arguments.finish()
        return flags
    }

    /// `[ID=]FILE` as a model spec.
    func spec(_ text: String) throws(UsageError) -> ServedModelSpec {
        let (id, path): (String, String)
        if let equals = text.firstIndex(of: "="), !text[..<equals].contains("/") {
            (id, path) = (String(text[..<equals]), String(text[text.index(after: equals)...]))
        } else {
            let name = text.split(separator: "/").last.map(String.init) ?? text
            let stem = name.split(separator: ".", omittingEmptySubsequences: false).dropLast().joined(separator: ".")
            (id, path) = (stem.isEmpty ? name : stem, text)
        }
        guard !id.isEmpty, !path.isEmpty else { throw UsageError("--model needs [ID=]FILE, got '\(text)'") }
        guard access(path, R_OK) == 0 else { throw UsageError("cannot read model file '\(path)'") }
        var spec = ServedModelSpec(id: id, paths: [path])
        spec.options = options
        spec.maxWaiting = maxWaiting
        spec.kvBytes = kvMiB << 20
        return spec
    }

    /// What to serve given `catalog`: its models (with the --option flags first, so the catalog's own options
    /// win), then the --model files; the catalog's keys and origins plus the flags'.
    func plan(_ catalog: Catalog, environment: [String: String]) throws(UsageError) -> ServePlan {
        var specs: [ServedModelSpec] = catalog.models.map { model in
            var spec = catalog.spec(model)
            spec.options = options + spec.options
            return spec
        }
        for model in models {
            let spec = try spec(model)
            guard !specs.contains(where: { $0.id == spec.id || $0.aliases.contains(spec.id) }) else {
                throw UsageError("two models are named '\(spec.id)'")
            }
            specs.append(spec)
        }
        guard !specs.isEmpty else { throw UsageError("name at least one model: --catalog FILE or --model [ID=]FILE") }
        let plainKeys = keys + (environment["PLEXUS_API_KEYS"] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        var scopes: [String: APIKeys.Scope] = Dictionary(plainKeys.map { ($0, .allModels) }, uniquingKeysWith: { a, _ in a })
        for key in catalog.keys { scopes[key.key] = key.models.map { APIKeys.Scope.models($0) } ?? .allModels }
        let admins = Set(catalog.keys.filter(\.admin).map(\.key))
        let weights = Dictionary(catalog.keys.map { ($0.key, $0.weight) }, uniquingKeysWith: { _, last in last })
        return ServePlan(specs: specs, keys: APIKeys(scopes, admins: admins, weights: weights), origins: origins + catalog.corsOrigins)
    }
}

/// What a server serves: the model specs, the keys and the CORS origins.
struct ServePlan: Sendable {
    var specs: [ServedModelSpec]
    var keys: APIKeys
    var origins: [String]
}
