import HostCore

/// `plexus bench`: benchmarks (never timed tests). Device benchmarks print a table, or JSON with --json.
enum BenchCommand {
    static let usage = """
        usage: plexus bench cpu [--threads N] [--json]
               plexus bench cuda [--json]

          cpu    parallel_for overhead per call (host pool), CPU stream lane round trip, evict/restore of 256 MiB
                 of weights between host tiers over 2 lanes vs one plain memcpy of the same bytes
          cuda   empty-kernel launch through the host table vs raw cuLaunchKernel, 4-stream overlap, pinned and
                 pageable host-to-device bandwidth, evict/restore bandwidth vs the measured link (needs a GPU)
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let json = arguments.flag("--json")
        let threads = try arguments.value("--threads").map { (text: String) throws(UsageError) -> Int in
            guard let count = Int(text), count > 0, count <= 1024 else { throw UsageError("--threads needs 1...1024") }
            return count
        }
        let target = try arguments.positional("what to benchmark (cpu or cuda)")
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
}
