import Glibc
import Testing
@testable import HostCore

/// The engine on a GPU (what `plexus serve --device cuda` runs): the one engine stream and the weight lanes on the
/// card, the LLM plugin's CUDA path behind it. Step time comes from CUDA events, weights move between device and
/// pinned host memory under a budget, and a load makes room on the card before it allocates. Skipped (with the
/// reason printed) without a GPU or the model; run by scripts/gpu-check on a GPU machine.
@Suite(.serialized, .enabled(if: CUDALLMFixture.skipReason == nil, "needs a GPU with NVRTC and the model file"))
struct CUDAServiceTests {
    static func service(_ ids: [String], weightBudget: UInt64? = nil) throws -> GenerationService {
        let gpu = try #require(GPUFixture.gpu)
        let folder = LLMPluginTests.pluginFolder
        let service = try GenerationService(devices: GPUFixture.devices, pluginDirectories: access(folder, R_OK) == 0 ? [folder] : [],
                                            environment: ProcessEnvironment.current(), weightBudget: weightBudget, gpu: gpu)
        for id in ids {
            var spec = ServedModelSpec(id: id, paths: [CUDALLMFixture.modelPath])
            spec.options = [("context_length", "2048")]
            service.load(spec)
            service.waitForLoads()
        }
        return service
    }

    static func completion(_ model: String) -> GenerationRequest {
        var request = GenerationRequest(model: model, prompt: .text("Once upon a time"))
        request.maxTokens = 16
        request.temperature = 0
        request.ignoreEOS = true
        return request
    }

    /// A greedy completion on the GPU engine: 16 tokens, and its device time, measured with CUDA events on the
    /// engine stream, is positive, within the request's wall time, and the model's whole device time (the only
    /// request).
    @Test func aGenerationOnTheGPUEngineIsMeteredWithEvents() async throws {
        let service = try Self.service(["g"])
        defer { service.shutdown() }
        #expect(service.models().first?.status == .ready, "\(service.models().first?.failure ?? "")")
        let start = MonotonicClock.seconds()
        let result = await GenerationServiceTests.collect(try service.generate(Self.completion("g")))
        let wall = MonotonicClock.seconds() - start
        #expect(result.failure == nil && result.finish == .length && result.usage?.completionTokens == 16)
        let seconds = try #require(result.usage?.deviceSeconds)
        #expect(seconds > 0 && seconds < wall, "device \(seconds) s, wall \(wall) s")
        #expect(abs(service.metrics.deviceSeconds(model: "g") - seconds) <= 1e-9 * seconds)
    }

    /// Two copies of the model on the card under a budget that holds one: the second load parks the first before it
    /// allocates (the engine's count never passes the budget), then each request wakes its model and parks the
    /// other, and both copies answer the same greedy text every time.
    @Test func weightsMoveOnTheCardWithinTheBudget() async throws {
        var info = stat()
        #expect(stat(CUDALLMFixture.modelPath, &info) == 0)
        let bytes = UInt64(info.st_size)
        let service = try Self.service(["a", "b"], weightBudget: bytes + bytes / 2)
        defer { service.shutdown() }
        #expect(service.models().allSatisfy { $0.status == .ready }, "\(service.models().map { $0.failure ?? "ready" })")
        var texts: [String] = []
        for id in ["a", "b", "a", "b"] {
            let result = await GenerationServiceTests.collect(try service.generate(Self.completion(id)))
            #expect(result.failure == nil, "\(id): \(String(describing: result.failure))")
            texts.append(result.text)
        }
        #expect(Set(texts).count == 1 && !texts[0].isEmpty, "\(texts)")
        let (a, b) = (service.metrics.weightMoves(model: "a"), service.metrics.weightMoves(model: "b"))
        #expect(a.evictions == 3 && a.restores == 2 && b.evictions == 2 && b.restores == 2, "a \(a), b \(b)")
        let weights = try #require(service.metrics.weightBytes())
        #expect(weights.peak <= weights.budget, "peak \(weights.peak) of \(weights.budget)")
    }
}
