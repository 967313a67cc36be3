import FoundationEssentials
import Glibc
import PluginABI
import Testing
@testable import HostCore

/// llama.cpp's greedy continuations (Tests/Plugins/llm/golden/greedy_*.json, made by make_llamacpp_golden.py with
/// llama-cpp-python), with llama.cpp's own top-1 margin at every step.
struct GreedyGolden: Decodable {
    struct Case: Decodable {
        let prompt_ids: [Int32]
        let output_ids: [Int32]
        let top1_margin: [Double]
    }
    let cases: [Case]

    static func load(_ model: String) throws -> GreedyGolden {
        let text = Fixtures.read("Tests/Plugins/llm/golden/greedy_\(model).json")
        return try JSONDecoder().decode(GreedyGolden.self, from: Data(text.utf8))
    }
}

/// The LLM plugin (built by `make` into .build/plugins) on the real models, through the same host path the server
/// uses: contract, greedy agreement with llama.cpp, batching and paging invariance.
@Suite(.serialized) struct LLMPluginTests {
    static var pluginFolder: String { Fixtures.root + "/.build/plugins" }

    static func session(_ model: String) throws -> ModelSession {
        try #require(access(pluginFolder + "/libplexus-llm.so", R_OK) == 0, "build the plugins first: make plugins")
        return try ModelSession.open(path: try ModelFiles.path(model), pluginDirectories: [pluginFolder], environment: [:],
                                     threads: 2, kvPages: 512)
    }

    /// The number of leading tokens equal in both lists.
    static func agreement(_ a: [Int32], _ b: [Int32]) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }

    /// Whether the plugin adds in llama.cpp's order on this CPU (x86-64 with AVX-512 F/BW/VL/DQ, see
    /// Specs/llm-plugin.md "Numerics"): then its logits are llama.cpp's bit for bit.
    static var addsInLlamaCppOrder: Bool {
        let fd = open("/proc/cpuinfo", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65_536)
        while case let count = Glibc.read(fd, &chunk, chunk.count), count > 0 { bytes += chunk[..<count] }
        let info = String(decoding: bytes, as: UTF8.self)
        guard let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(line.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512vl", "avx512dq", "f16c", "fma"].allSatisfy(flags.contains)
    }

    /// Greedy decoding equals llama.cpp's token for token: over every golden token where the plugin adds in
    /// llama.cpp's order, else up to the first step where llama.cpp's own top-2 margin is below 0.1 logit (there the
    /// order of float additions decides, and both answers are right).
    @Test(arguments: [("gemma3", ModelFiles.gemma3), ("smollm2", ModelFiles.smolLM2)])
    func greedyMatchesLlamaCpp(golden: String, model: String) throws {
        let session = try Self.session(model)
        let exact = Self.addsInLlamaCppOrder
        for testCase in try GreedyGolden.load(golden).cases {
            let input = LLMRequestInput(promptTokenCount: UInt32(testCase.prompt_ids.count), maxNewTokens: UInt32(testCase.output_ids.count))
            let ours = try session.runner.generate(prompt: testCase.prompt_ids, input: input).tokens
            let firstTie = testCase.top1_margin.firstIndex { $0 < 0.1 } ?? testCase.output_ids.count
            let matched = Self.agreement(ours, testCase.output_ids)
            let required = exact ? testCase.output_ids.count : min(firstTie, testCase.output_ids.count)
            #expect(matched >= required,
                    "prompt \(testCase.prompt_ids.prefix(8)): \(matched) of \(testCase.output_ids.count) tokens match (required \(required); llama.cpp's first near-tie is at \(firstTie))")
        }
    }

    /// A sequence gives the same tokens alone and batched with another one in every step, on scattered pages.
    @Test func batchingAndPagingDoNotChangeTheResult() throws {
        let session = try Self.session(ModelFiles.smolLM2)
        let prompts: [[Int32]] = [[1, 9690, 198, 2683, 359, 253, 5356], [504, 3575, 282, 4649, 314]]
        let alone = try prompts.map { prompt in
            try session.runner.generate(prompt: prompt, input: LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: 12)).tokens
        }
        var driver = RequestDriver(model: session.model, stream: session.devices.cpu.makeStream(label: "batch"))
        let inputs = prompts.map { RequestInput.tokens(kind: 1, LLMRequestInput(promptTokenCount: UInt32($0.count), maxNewTokens: 12)) }
        let together = try driver.run(inputs, prompts: prompts, stepLimit: 32)
        for index in prompts.indices {
            #expect(together[index].final?.reason == UInt32(PX_FINISH_LENGTH))
            #expect(Self.agreement(together[index].tokens, alone[index]) >= 8, "request \(index): \(together[index].tokens) vs \(alone[index])")
        }
    }

    /// Continuous batching: a new prompt's prefill runs in the same step as another sequence's decode tokens, each
    /// sequence on its own pages, and both give what they give alone.
    @Test func aPrefillJoinsADecodeInTheSameStep() throws {
        let session = try Self.session(ModelFiles.smolLM2)
        let model = session.model, stream = session.devices.cpu.makeStream(label: "mixed")
        let prompts: [[Int32]] = [[504, 3575, 282, 4649, 314], [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173]]
        let alone = try prompts.map {
            try session.runner.generate(prompt: $0, input: LLMRequestInput(promptTokenCount: UInt32($0.count), maxNewTokens: 10)).tokens
        }
        let sinks = [RequestSink(requestID: 91), RequestSink(requestID: 92)]
        let requests = try prompts.indices.map { index in
            try model.makeRequest(id: UInt64(91 + index), input: .tokens(kind: 1, LLMRequestInput(promptTokenCount: UInt32(prompts[index].count), maxNewTokens: 10)), sink: sinks[index])
        }
        var outputs: [[Int32]] = [[], []]
        var positions = [0, 0]
        let pageBase: [UInt32] = [0, 200]  // far-apart, non-overlapping page ranges
        func item(_ index: Int, _ tokens: [Int32]) -> StepItem {
            var item = StepItem(request: requests[index])
            item.pos = UInt32(positions[index])
            item.tokens = tokens
            item.flags = UInt32(PX_ITEM_SAMPLE)
            let pages = (positions[index] + tokens.count + 15) / 16
            item.kvPages = (0..<pages).map { pageBase[index] + UInt32($0) }
            return item
        }
        func collect() {
            for index in 0..<2 {
                for case .tokens(let out) in sinks[index].drain() { outputs[index] += out.tokens }
            }
        }
        let before = MonotonicClock.seconds()
        let measured = try model.step([item(0, prompts[0])], on: stream)          // A: prefill
        let wall = MonotonicClock.seconds() - before
        // The step is timed with the host's events on the stream: within the wall time around the call.
        #expect(measured.map { $0 > 0 && $0 <= wall } == true, "step time \(String(describing: measured)) s, wall \(wall) s")
        positions[0] = prompts[0].count
        collect()
        for _ in 0..<3 {                                             // A: three decode steps alone
            try model.step([item(0, [outputs[0].last!])], on: stream)
            positions[0] += 1
            collect()
        }
        // One step: A's next decode token and B's whole prompt.
        try model.step([item(0, [outputs[0].last!]), item(1, prompts[1])], on: stream)
        positions[0] += 1
        positions[1] = prompts[1].count
        collect()
        while sinks.contains(where: { $0.finalOutput == nil }) {
            let live = (0..<2).filter { sinks[$0].finalOutput == nil }
            try model.step(live.map { item($0, [outputs[$0].last!]) }, on: stream)
            for index in live { positions[index] += 1 }
            collect()
        }
        requests.forEach { model.destroy($0) }
        for index in 0..<2 {
            #expect(outputs[index].count == 10)
            #expect(Self.agreement(outputs[index], alone[index]) >= 8, "sequence \(index): \(outputs[index]) vs \(alone[index])")
        }
    }

    /// ABI 1.2 page moves: a sequence whose KV is saved from its pages and restored into other pages continues
    /// exactly as if it had never moved (same tokens), because the host copies the bytes and the plugin follows the
    /// new page list.
    @Test func aSequenceMovedToOtherPagesContinuesExactly() throws {
        let session = try Self.session(ModelFiles.smolLM2)
        let model = session.model, stream = session.devices.cpu.makeStream(label: "moves")
        #expect(model.movesKV)
        let prompt: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 30, 504, 3575, 282, 4649, 314, 2]
        func run(moveAfter: Int?) throws -> [Int32] {
            let sink = RequestSink(requestID: 7)
            let request = try model.makeRequest(id: 7, input: .tokens(kind: 1, LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: 12)), sink: sink)
            defer { model.destroy(request) }
            var pages: [UInt32] = [3, 4], output: [Int32] = [], position = 0
            func step(_ tokens: [Int32]) throws {
                var item = StepItem(request: request)
                item.pos = UInt32(position)
                item.tokens = tokens
                item.flags = UInt32(PX_ITEM_SAMPLE)
                let needed = (position + tokens.count + 15) / 16
                while pages.count < needed { pages.append(UInt32(5 + pages.count)) }
                item.kvPages = pages
                try model.step([item], on: stream)
                position += tokens.count
                for case .tokens(let out) in sink.drain() { output += out.tokens }
            }
            try step(prompt)
            while output.count < 12 {
                if output.count == moveAfter {
                    // Preempted: the KV leaves for host memory, then comes back into other pages.
                    let saved = try model.saveKV(pages: pages, on: stream)
                    let moved = pages.indices.map { UInt32(300 + 7 * $0) }
                    try model.restoreKV(saved, into: moved, on: stream)
                    model.dropSavedKV(saved)
                    pages = moved
                }
                try step([output.last!])
            }
            return output
        }
        let still = try run(moveAfter: nil)
        #expect(still.count == 12)
        #expect(try run(moveAfter: 5) == still)
    }

    /// Both real models pass every contract check of `plexus plugin check`.
    @Test(arguments: [ModelFiles.smolLM2, ModelFiles.gemma3])
    func passesTheContractChecker(model: String) throws {
        let checker = PluginChecker(path: Self.pluginFolder + "/libplexus-llm.so", modelPath: try ModelFiles.path(model), threads: 2) { _ in }
        #expect(checker.run(), "\(checker.report.results.filter { if case .fail = $0.outcome { true } else { false } }.map(\.line))")
    }

    /// Options are checked: an over-long context and a bad value are refused with the key named.
    @Test func refusesBadOptions() throws {
        let path = try ModelFiles.path(ModelFiles.smolLM2)
        for (key, value, message) in [("context_length", "100000", "exceeds the model's trained context"),
                                      ("max_batch_tokens", "zero", "must be a positive integer"),
                                      ("weights", "mmap", "must be map or copy"),
                                      ("cuda_graphs", "maybe", "option cuda_graphs='maybe' must be on or off"),
                                      ("cuda_mma", "1", "option cuda_mma='1' must be on or off"),
                                      ("cuda_streams", "2", "unknown option 'cuda_streams'")] {
            do {
                _ = try ModelSession.open(path: path, pluginDirectories: [Self.pluginFolder], environment: [:], options: [(key, value)])
                Issue.record("\(key)=\(value) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        // The CUDA options are accepted (and have nothing to do) on the CPU.
        _ = try ModelSession.open(path: path, pluginDirectories: [Self.pluginFolder], environment: [:],
                                  options: [("cuda_graphs", "off"), ("cuda_mma", "off")])
    }
}

/// The float64 NumPy reference's last-position logits (Tests/Plugins/llm/golden/reference_*.json, made by
/// reference_forward.py over the gguf package's dequantizers).
struct ReferenceGolden: Decodable {
    struct Last: Decodable {
        let top_ids: [Int32]
        let top_logits: [Double]
        let logsumexp: Double
    }
    struct Prompt: Decodable {
        let name: String
        let ids: [Int32]
        let last: Last
    }
    let prompts: [Prompt]
    /// The model file the reference was computed from.
    let model_sha256: String

    static func load(_ model: String) throws -> ReferenceGolden {
        let text = Fixtures.read("Tests/Plugins/llm/golden/reference_\(model).json")
        return try JSONDecoder().decode(ReferenceGolden.self, from: Data(text.utf8))
    }
}

/// The plugin's logits against the float64 reference, with the tolerances the reference's README derives for an
/// implementation that quantizes activations to 8 bits as llama.cpp does: the 64 largest reference logits within
/// 1.5, logsumexp within 1.5, and the same top token wherever the reference's top-2 gap is at least 0.25.
@Suite(.serialized) struct LLMReferenceLogitTests {
    @Test(arguments: [("gemma3", ModelFiles.gemma3), ("smollm2", ModelFiles.smolLM2)])
    func logitsAgreeWithTheFloat64Reference(golden: String, model: String) throws {
        let session = try LLMPluginTests.session(model)
        for prompt in try ReferenceGolden.load(golden).prompts {
            let input = LLMRequestInput(promptTokenCount: UInt32(prompt.ids.count), maxNewTokens: 1)
            let logits = try #require(try session.runner.generate(prompt: prompt.ids, input: input, wantLogits: true).promptLogits)
            let worst = zip(prompt.last.top_ids, prompt.last.top_logits).map { abs(Double(logits[Int($0)]) - $1) }.max() ?? 0
            #expect(worst <= 1.5, "\(golden) \(prompt.name): a top-64 logit is off by \(worst)")
            let maximum = Double(logits.max() ?? 0)
            let logsumexp = maximum + log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) })
            #expect(abs(logsumexp - prompt.last.logsumexp) <= 1.5, "\(golden) \(prompt.name): logsumexp \(logsumexp) vs \(prompt.last.logsumexp)")
            if prompt.last.top_logits[0] - prompt.last.top_logits[1] >= 0.25 {
                let ours = logits.indices.max { logits[$0] < logits[$1] }.map(Int32.init)
                #expect(ours == prompt.last.top_ids[0], "\(golden) \(prompt.name): top token \(String(describing: ours)) vs \(prompt.last.top_ids[0])")
            }
        }
    }
}
