import Glibc
import HostCore

/// `plexus bench`: benchmarks (never timed tests). Device benchmarks print a table, or JSON with --json.
enum BenchCommand {
    static let usage = """
        usage: plexus bench --model FILE.gguf [-p 512] [-n 128] [-t THREADS] [-r REPETITIONS] [--batch B,B,...]
                            [--device cpu|cuda|cuda:N] [--option K=V]... [--plugins DIR]... [--json]
               plexus bench cpu [--threads N] [--json]
               plexus bench cuda [--json]
               plexus bench scheduler --chat FILE --job FILE [-n 64] [--slice-ms 18] [ENGINE OPTIONS]
               plexus bench wake FILE.gguf [-r 6] [ENGINE OPTIONS]
               plexus bench preemption FILE.gguf [-n 200] [-r 2] [ENGINE OPTIONS]
               plexus bench images FILE.gguf [-n 8] [--size 8] [--steps 25] [-r 3] [ENGINE OPTIONS]
                 ENGINE OPTIONS: [--device cpu|cuda|cuda:N] [--threads N] [--plugins DIR]... [--json]

          --model  prompt processing (pp: a prompt of p random tokens in one prefill) and generation (tg: n
                   single-token decode steps) in tokens/s, mean and standard deviation over r runs, as llama-bench;
                   --batch adds tg<n>@b<B> for each B: B sequences decoding together (one token each per step),
                   aggregate generated tokens/s; --device runs the model on a GPU (default cpu)
          cpu    parallel_for overhead per call (host pool), CPU stream lane round trip, evict/restore of 256 MiB
                 of weights between host tiers over 2 lanes vs one plain memcpy of the same bytes
          scheduler  two models on one engine: switch cost between resident models (p50/p99), and the
                 inter-token latency of a chat stream (--chat, a model with a chat template) alone and beside a long
                 job of the other model (--job: a 1400-word prompt + n tokens, batch priority)
          wake   waking an evicted model: two copies of FILE (LLM plugin, weights=copy) under a weight budget
                 that holds one, requests alternating between them; restore bandwidth vs a memcpy of the same
                 bytes (the link on a CPU host; a pinned host-to-device copy on a GPU), time to first token when the request wakes its model vs resident
          preemption  four long generations through a KV arena of one context (1024 tokens), twice: with a preempted
                 sequence's KV kept in host memory, and recomputed from position 0 (wall time, device time, preemptions)
          images  same-shape batching of denoise steps: n image requests of an image model one at a time, then all at
                 once (batched by the scheduler): images/s and device time per image of each, items per step
          scheduler, wake, preemption and images run the engine as `plexus serve` does, on --device (default cpu)
          cuda   empty-kernel launch through the host table vs raw cuLaunchKernel, 100 empty kernels replayed as one
                 graph (graph_begin/graph_end) vs launched one by one, 4-stream overlap, pinned and
                 pageable host-to-device bandwidth, evict/restore bandwidth vs the measured link (needs a GPU)

          Exit 0 on success, 1 when a benchmark fails (or there is no GPU for cuda, or the model cannot load),
          2 on a usage error.
        """

    private static func count(_ arguments: inout ArgumentList, _ flag: String, default value: Int) throws(UsageError) -> Int {
        guard let text = try arguments.value(flag) else { return value }
        guard let number = Int(text), number >= 0, number <= 1 << 16 else { throw UsageError("\(flag) needs an integer in 0...65536") }
        return number
    }

    private static func benchModel(_ path: String, _ arguments: ArgumentList, json: Bool) throws(UsageError) -> Int32 {
        var arguments = arguments
        let prompt = try count(&arguments, "-p", default: 512)
        let generate = try count(&arguments, "-n", default: 128)
        let threads = try count(&arguments, "-t", default: 0)
        let repetitions = max(1, try count(&arguments, "-r", default: 5))
        let batches = try batchSizes(&arguments)
        let device = try arguments.device()
        let directories = try arguments.values("--plugins")
        let extra = try arguments.keyValues("--option")
        try arguments.finish()
        do {
            let largest = batches.max() ?? 1
            var options = [("max_batch_tokens", String(max(prompt, 16, largest)))]
            if largest > 32 { options.append(("max_batch_items", String(largest))) }
            options.append(contentsOf: extra)
            let session = try ModelSession.open(path: path, pluginDirectories: directories, environment: ProcessEnvironment.current(),
                                                threads: threads > 0 ? threads : nil, options: options,
                                                kvPages: LLMBenchmark.kvPages(promptTokens: prompt, generatedTokens: generate, batches: batches),
                                                device: device)
            let figures = try LLMBenchmark(session: session, promptTokens: prompt, generatedTokens: generate, repetitions: repetitions,
                                           batches: batches).run()
            let workers = session.devices.cpu.pool.count
            if json {
                let items = figures.map { figure in
                    let batch = figure.batch.map { ", \"batch\": \($0)" } ?? ""
                    return "{\"test\": \"\(figure.test)\", \"device\": \"\(device)\", \"threads\": \(workers)\(batch), \"tokens_per_second\": \(figure.mean), \"stddev\": \(figure.deviation)}"
                }
                Output.line("[" + items.joined(separator: ", ") + "]")
            } else {
                Output.line("model | arch | threads | test | t/s")
                Output.line("---|---|---|---|---")
                for figure in figures {
                    Output.line("\(path.split(separator: "/").last ?? "") | \(session.model.info.architecture) | \(workers) | \(figure.test) | \(FixedPoint.format(figure.mean, 2)) ± \(FixedPoint.format(figure.deviation, 2))")
                }
            }
            return 0
        } catch {
            Output.error("plexus: \(error)")
            return 1
        }
    }

    /// `--batch 1,8,64`: positive batch sizes up to 4096, or none.
    private static func batchSizes(_ arguments: inout ArgumentList) throws(UsageError) -> [Int] {
        guard let text = try arguments.value("--batch") else { return [] }
        let sizes = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else {
            throw UsageError("--batch needs comma-separated batch sizes in 1...4096, e.g. 1,8,64")
        }
        return sizes.map { $0! }
    }

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let json = arguments.flag("--json")
        if let model = try arguments.value("--model") { return try benchModel(model, arguments, json: json) }
        let threads = try arguments.threads()
        let target = try arguments.positional("what to benchmark (cpu, cuda, scheduler, wake or preemption)")
        if target == "scheduler" { return try benchScheduler(arguments, threads: threads, json: json) }
        if target == "wake" { return try benchWake(arguments, threads: threads, json: json) }
        if target == "preemption" { return try benchPreemption(arguments, threads: threads, json: json) }
        if target == "images" { return try benchImages(arguments, threads: threads, json: json) }
        try arguments.finish()
        let results: [BenchResult]
        switch target {
        case "cpu":
            results = DeviceBenchmarks.cpu(threads: threads)
        case "cuda":
            let devices = DeviceSet.discover(environment: ProcessEnvironment.current(), cpuThreads: threads)
            guard let gpu = devices.gpus.first else {
                Output.error("plexus: no GPU: \(devices.cudaProblem ?? "unknown")")
                return 1
            }
            results = DeviceBenchmarks.cuda(gpu, cpu: devices.cpu)
        default:
            throw UsageError("unknown benchmark '\(target)'")
        }
        for line in json ? [BenchResult.json(results)] : BenchResult.table(results) { Output.line(line) }
        return results.contains { $0.failed } ? 1 : 0
    }

    private static func benchScheduler(_ arguments: ArgumentList, threads: Int?, json: Bool) throws(UsageError) -> Int32 {
        var arguments = arguments
        guard let chat = try arguments.value("--chat"), let job = try arguments.value("--job") else {
            throw UsageError("bench scheduler needs --chat FILE and --job FILE")
        }
        let tokens = try count(&arguments, "-n", default: 64)
        let sliceMilliseconds = try count(&arguments, "--slice-ms", default: Int(ServedModelSpec.defaultSliceSeconds * 1000))
        let engine = try EngineOptions(&arguments, threads: threads)
        try arguments.finish()
        guard let service = loadService([("chat", chat), ("job", job)], options: [], budget: nil, engine: engine,
                                        sliceSeconds: Double(sliceMilliseconds) / 1000) else { return 1 }
        defer { service.shutdown() }
        let benchmark = SchedulerBenchmark(service: service, chatModel: "chat", jobModel: "job", tokens: max(tokens, 8))
        return report(json: json) { try await benchmark.run() }
    }

    private static func benchWake(_ arguments: ArgumentList, threads: Int?, json: Bool) throws(UsageError) -> Int32 {
        var arguments = arguments
        let rounds = max(2, try count(&arguments, "-r", default: 6))
        let engine = try EngineOptions(&arguments, threads: threads)
        let path = try arguments.positional("the model file")
        try arguments.finish()
        var info = stat()
        guard stat(path, &info) == 0 else {
            Output.error("plexus: cannot read \(path)")
            return 1
        }
        // A budget of one and a half files: one copy fits, two do not. On the CPU the weights must be the host's
        // allocation to be movable (weights=copy); on a GPU they always are.
        let budget = UInt64(info.st_size) + UInt64(info.st_size) / 2
        let options = engine.gpu == nil ? [("weights", "copy")] : []
        guard let service = loadService([("a", path), ("b", path)], options: options, budget: budget, engine: engine) else { return 1 }
        defer { service.shutdown() }
        let benchmark = WakeBenchmark(service: service, models: ("a", "b"), rounds: rounds, gpu: engine.gpu, cpu: engine.devices.cpu)
        return report(json: json) { try await benchmark.run() }
    }

    private static func benchPreemption(_ arguments: ArgumentList, threads: Int?, json: Bool) throws(UsageError) -> Int32 {
        var arguments = arguments
        let tokens = max(8, try count(&arguments, "-n", default: 200))
        let rounds = max(1, try count(&arguments, "-r", default: 2))
        let engine = try EngineOptions(&arguments, threads: threads)
        let path = try arguments.positional("the model file")
        try arguments.finish()
        guard let service = loadService([("saving", path), ("recomputing", path)], options: [("context_length", "1024")], budget: nil,
                                        engine: engine, change: { spec in
            spec.kvBytes = 1   // one context's pages
            spec.savesKV = spec.id == "saving"
        }) else { return 1 }
        defer { service.shutdown() }
        let benchmark = PreemptionBenchmark(service: service, saving: "saving", recomputing: "recomputing", tokens: tokens, rounds: rounds)
        return report(json: json) { try await benchmark.run() }
    }

    private static func benchImages(_ arguments: ArgumentList, threads: Int?, json: Bool) throws(UsageError) -> Int32 {
        var arguments = arguments
        let requests = max(1, try count(&arguments, "-n", default: 8))
        let size = max(1, try count(&arguments, "--size", default: 8))
        let steps = max(1, try count(&arguments, "--steps", default: 25))
        let rounds = max(1, try count(&arguments, "-r", default: 3))
        let engine = try EngineOptions(&arguments, threads: threads)
        let path = try arguments.positional("the image model file")
        try arguments.finish()
        guard let service = loadService([("images", path)], options: [], budget: nil, engine: engine, tokenModels: false) else { return 1 }
        defer { service.shutdown() }
        let benchmark = ImageBenchmark(service: service, model: "images", requests: requests, size: size, steps: steps, rounds: rounds)
        return report(json: json) { try await benchmark.run() }
    }

    /// The engine a scheduler benchmark runs on: the device (`--device`, default cpu), the worker threads and the
    /// plugin folders.
    private struct EngineOptions {
        let devices: DeviceSet
        let choice: DeviceChoice
        let directories: [String]
        /// The GPU of a `--device cuda` choice, once found.
        var gpu: CUDADevice? { if case .success(let gpu)? = choice.gpu(in: devices) { gpu } else { nil } }

        init(_ arguments: inout ArgumentList, threads: Int?) throws(UsageError) {
            choice = try arguments.device()
            directories = try arguments.values("--plugins")
            devices = choice.discover(environment: ProcessEnvironment.current(), cpuThreads: threads)
        }
    }

    /// A service on `engine`'s device with `models` loaded (`options`, with a 4096-token context for token models
    /// unless they set one); nil, after saying why, if there is no such device or a model failed.
    private static func loadService(_ models: [(String, String)], options: [(String, String)], budget: UInt64?, engine: EngineOptions,
                                    sliceSeconds: Double = ServedModelSpec.defaultSliceSeconds, tokenModels: Bool = true,
                                    change: (inout ServedModelSpec) -> Void = { _ in }) -> GenerationService? {
        let service: GenerationService
        switch GenerationService.open(on: engine.choice, devices: engine.devices, pluginDirectories: engine.directories,
                                      environment: ProcessEnvironment.current(), weightBudget: budget) {
        case .success(let opened): service = opened
        case .failure(let noGPU):
            Output.error("plexus: \(noGPU)")
            return nil
        }
        for (id, path) in models {
            var spec = ServedModelSpec(id: id, paths: [path])
            // 4096 unless the benchmark sets its own context length.
            spec.options = (!tokenModels || options.contains { $0.0 == "context_length" } ? [] : [("context_length", "4096")]) + options
            spec.sliceSeconds = sliceSeconds
            change(&spec)
            service.load(spec)
        }
        service.waitForLoads()
        if let failed = service.models().first(where: { $0.status != .ready }) {
            Output.error("plexus: \(failed.id) failed to load: \(failed.failure ?? "unknown")")
            service.shutdown()
            return nil
        }
        return service
    }

    /// Runs a benchmark and prints its results; the exit status.
    private static func report(json: Bool, _ run: @escaping @Sendable () async throws -> [BenchResult]) -> Int32 {
        switch blocking(run) {
        case .success(let results):
            for line in json ? [BenchResult.json(results)] : BenchResult.table(results) { Output.line(line) }
            return results.contains { $0.failed } ? 1 : 0
        case .failure(let error):
            Output.error("plexus: \(error)")
            return 1
        }
    }
}
