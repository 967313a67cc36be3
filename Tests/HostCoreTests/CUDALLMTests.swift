import Glibc
import PluginABI
import Testing
@testable import HostCore

/// What the CUDA-vs-CPU comparison needs: a GPU with NVRTC and the model file. The model is
/// $PLEXUS_CUDA_TEST_MODEL when set (e.g. the cut fixture .cache/fixtures/gemma3-cut.gguf), else Gemma 3 270M from
/// the model cache.
enum CUDALLMFixture {
    static var modelPath: String {
        if let value = getenv("PLEXUS_CUDA_TEST_MODEL"), value.pointee != 0 { return String(cString: value) }
        return ModelFiles.cache + "/" + ModelFiles.gemma3
    }

    /// Why the suite cannot run here (printed once), or nil.
    static let skipReason: String? = {
        var reason: String?
        if !GPUFixture.available {
            reason = "no GPU with NVRTC (\(GPUFixture.devices.cudaProblem ?? GPUFixture.gpu?.driver.nvrtcProblem ?? "unknown"))"
        } else if access(modelPath, R_OK) != 0 {
            reason = "no model at \(modelPath) (set PLEXUS_CUDA_TEST_MODEL or run scripts/fetch-models)"
        }
        if let reason { print("CUDALLMTests skipped: \(reason)") }
        return reason
    }()
}

/// The LLM plugin on a GPU against the same plugin on the CPU, on one real model: the logits of the last prompt
/// position, and greedy continuations. Skipped (with the reason printed) without a GPU or the model; run by
/// scripts/gpu-check on a GPU machine.
@Suite(.serialized, .enabled(if: CUDALLMFixture.skipReason == nil, "needs a GPU with NVRTC and the model file"))
struct CUDALLMTests {
    /// Largest allowed max|logit_cuda - logit_cpu| / max|logit_cpu| at the last prompt position. The two paths add
    /// in different orders (and the GPU may keep activations in other precisions than the CPU's 8-bit quantized
    /// dot products), so they are not bit-identical; 2% of the logit range keeps the top of the distribution in
    /// place while allowing that noise.
    static let relativeLogitTolerance: Float = 2e-2
    /// Tokens greedily decoded on both devices and compared one for one.
    static let greedyTokens: UInt32 = 16
    /// Prompt lengths: short, medium, and one longer than max_batch_tokens (512), so the prefill goes in chunks.
    static let promptLengths = [6, 57, 700]

    static func session(_ device: DeviceChoice) throws -> ModelSession {
        let folder = LLMPluginTests.pluginFolder
        return try ModelSession.open(path: CUDALLMFixture.modelPath, pluginDirectories: access(folder, R_OK) == 0 ? [folder] : [],
                                     environment: ProcessEnvironment.current(), kvPages: 512, device: device)
    }

    /// Deterministic prompts of token ids below 4096 (the cut fixture's vocabulary), starting with id 2 (BOS in
    /// Gemma's vocabulary; an ordinary token elsewhere).
    static func prompts(vocabulary: UInt32) -> [[Int32]] {
        var random = SeededRandom(seed: 0xC0DA)
        let upper = UInt64(min(vocabulary, 4096))
        return promptLengths.map { length in
            [2] + (1..<length).map { _ in Int32(upper / 4 + random.next() % (upper - upper / 4)) }
        }
    }

    @Test func cudaAgreesWithTheCPU() throws {
        let cpu = try Self.session(.cpu)
        let cuda = try Self.session(.cuda(0))
        #expect(cpu.model.info.vocabSize == cuda.model.info.vocabSize)
        for prompt in Self.prompts(vocabulary: cpu.model.info.vocabSize) {
            let logitsInput = LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: 1)
            let expected = try #require(try cpu.runner.generate(prompt: prompt, input: logitsInput, wantLogits: true).promptLogits)
            let actual = try #require(try cuda.runner.generate(prompt: prompt, input: logitsInput, wantLogits: true).promptLogits)
            try #require(expected.count == actual.count, "logit counts differ: cpu \(expected.count), cuda \(actual.count)")
            let maxDiff = zip(expected, actual).map { abs($0 - $1) }.max() ?? 0
            let scale = max(expected.map(abs).max() ?? 1, 1e-6)
            let argmax = { (logits: [Float]) in logits.indices.max { logits[$0] < logits[$1] } }
            print("CUDALLMTests prompt of \(prompt.count): max |diff| \(maxDiff), relative \(maxDiff / scale), argmax cpu \(argmax(expected) ?? -1) cuda \(argmax(actual) ?? -1)")
            #expect(maxDiff / scale <= Self.relativeLogitTolerance, "prompt of \(prompt.count) tokens: logits differ by \(maxDiff) (max |logit| \(scale))")
            #expect(argmax(expected) == argmax(actual), "prompt of \(prompt.count) tokens: the top token differs")

            let greedy = LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: Self.greedyTokens)
            let cpuTokens = try cpu.runner.generate(prompt: prompt, input: greedy).tokens
            let cudaTokens = try cuda.runner.generate(prompt: prompt, input: greedy).tokens
            print("CUDALLMTests prompt of \(prompt.count): greedy cpu \(cpuTokens)")
            print("CUDALLMTests prompt of \(prompt.count): greedy cuda \(cudaTokens)")
            #expect(cpuTokens == cudaTokens, "prompt of \(prompt.count) tokens: greedy continuations differ")
        }
        #expect(cuda.model.unload(on: cuda.runner.stream).isEmpty, "the CUDA model leaked host objects")
    }
}
