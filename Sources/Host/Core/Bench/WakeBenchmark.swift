import Glibc

/// Benchmark (d) of the scheduler: waking an evicted model. Two models share a weight budget that holds one, so
/// every request to the other wakes it (its weights come back from pinned host memory while the first is parked).
/// Reports the restore bandwidth against the link in the same process (on a CPU host the link is a memcpy of the
/// same bytes; with the engine on a GPU, a pinned host-to-device copy of them), and the time to first token of a request that
/// wakes its model against the same request to the model once resident (never a timed test).
public struct WakeBenchmark: Sendable {
    public let service: GenerationService
    /// Two loaded models whose weights the budget cannot hold together.
    public let models: (String, String)
    public let rounds: Int
    /// The GPU the service's engine runs on (nil on the CPU), and the CPU device: where the link is measured.
    public let gpu: CUDADevice?
    public let cpu: CPUDevice

    public init(service: GenerationService, models: (String, String), rounds: Int = 5, gpu: CUDADevice?, cpu: CPUDevice) {
        self.service = service
        self.models = models
        self.rounds = rounds
        self.gpu = gpu
        self.cpu = cpu
    }

    func request(_ model: String) -> GenerationRequest {
        var request = GenerationRequest(model: model, prompt: .text("The capital of France is"))
        request.maxTokens = 1
        request.temperature = 0
        return request
    }

    /// Seconds from submitting `request` to its first text event.
    func timeToFirstToken(_ request: GenerationRequest) async throws(ServiceError) -> Double {
        let start = MonotonicClock.seconds()
        var first: Double?
        for await event in try service.generate(request).events {
            if case .text = event, first == nil { first = MonotonicClock.seconds() }
            if case .failed(let error) = event { throw error }
        }
        return (first ?? MonotonicClock.seconds()) - start
    }

    public func run() async throws(ServiceError) -> [BenchResult] {
        var woken: [Double] = [], resident: [Double] = [], bandwidths: [Double] = []
        var bytes: UInt64 = 0
        // Warm-up: both models have run once (the first restore faults fresh pages in).
        _ = try await timeToFirstToken(request(models.0))
        _ = try await timeToFirstToken(request(models.1))
        for round in 0..<rounds {
            let model = round % 2 == 0 ? models.0 : models.1
            let before = service.metrics.weightMoves(model: model)
            woken.append(try await timeToFirstToken(request(model)))
            let after = service.metrics.weightMoves(model: model)
            guard after.restores == before.restores + 1 else {
                throw ServiceError(.internalError, "the request to \(model) did not wake it: is the budget too large, or weights=copy missing?")
            }
            bytes = after.bytesRestored - before.bytesRestored
            bandwidths.append(Double(bytes) / (after.restoreSeconds - before.restoreSeconds))
            resident.append(try await timeToFirstToken(request(model)))
        }
        let link: Double
        if let gpu {
            do throws(CUDAError) { link = try CUDABenchmarks(gpu: gpu, cpu: cpu).pinnedLink(bytes: Int(bytes)) } catch {
                throw ServiceError(.internalError, "measuring the pinned link: \(error.description)")
            }
        } else {
            link = Double(bytes) / Self.memcpySeconds(Int(bytes)) / 1e9
        }
        let linkName = gpu == nil ? "one memcpy thread (the link)" : "pinned host->device copy (the link)"
        let bandwidth = SchedulerBenchmark.percentile(bandwidths, 50) / 1e9
        let (wake, warm) = (SchedulerBenchmark.percentile(woken, 50), SchedulerBenchmark.percentile(resident, 50))
        return [
            BenchResult(name: "wake: restore bandwidth, median of \(rounds)", value: bandwidth, unit: "GB/s", peerName: linkName,
                        peerValue: link, note: "\(FixedPoint.mebibytes(bytes)) of weights, 2 copy lanes, 8 MiB chunks"),
            BenchResult(name: "wake: time to first token of a request that wakes its model, p50", value: wake * 1e3, unit: "ms",
                        peerName: "same request, model resident", peerValue: warm * 1e3,
                        note: "p99 \(FixedPoint.format(SchedulerBenchmark.percentile(woken, 99) * 1e3, 1)) ms; includes parking the other model"),
            BenchResult(name: "wake: added time to first token, p50", value: (wake - warm) * 1e3, unit: "ms",
                        note: "restore alone at the link's speed would be \(FixedPoint.format(Double(bytes) / (link * 1e9) * 1e3, 1)) ms"),
        ]
    }

    /// The fastest of 5 plain copies of `bytes` between two fresh buffers.
    static func memcpySeconds(_ bytes: Int) -> Double {
        let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        let target = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { source.deallocate(); target.deallocate() }
        memset(source, 1, bytes)
        memset(target, 0, bytes)
        return CPUBenchmarks.fastest(5) {
            memcpy(target, source, bytes)
            CPUBenchmarks.observe(target, bytes)
        }
    }
}
