import FoundationEssentials
import Glibc
import Testing
@testable import HostCore

/// The engine and GenerationService on the real models through the LLM plugin: what a generation reports, batching
/// that changes nothing, cancellation at a step boundary, stop strings, limits and errors, two models on one stream.
@Suite(.serialized) struct GenerationServiceTests {
    /// What one generation reported.
    struct Result {
        var text = ""
        var finish: FinishReason?
        var usage: Usage?
        var failure: ServiceError?
        var started: Int?
        var logprobs: [TokenLogprob] = []
        var images: [Int: GeneratedImage] = [:]
        var events = 0
    }

    /// A service over the real models; `oneAtATime` loads each after the previous one is ready (a fixed order).
    static func service(_ models: [(String, String)], maxWaiting: Int = 256, options: [(String, String)] = [],
                        weightBudget: UInt64? = nil, pinned: Set<String> = [], batch: Set<String> = [],
                        oneAtATime: Bool = false, change: (inout ServedModelSpec) -> Void = { _ in }) throws -> GenerationService {
        try #require(access(LLMPluginTests.pluginFolder + "/libplexus-llm.so", R_OK) == 0, "build the plugins first: make plugins")
        let service = GenerationService(devices: DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: 2),
                                        pluginDirectories: [LLMPluginTests.pluginFolder], environment: [:], weightBudget: weightBudget)
        for (id, file) in models {
            var spec = ServedModelSpec(id: id, paths: [try ModelFiles.path(file)])
            spec.options = [("context_length", "2048")] + options
            spec.alwaysResident = pinned.contains(id)
            if batch.contains(id) { spec.priority = .batch }
            change(&spec)
            spec.maxWaiting = maxWaiting
            service.load(spec)
            if oneAtATime { service.waitForLoads() }
        }
        service.waitForLoads()
        current = service
        return service
    }

    /// The service the suite's current test made (the suite runs serialized): the watchdog describes its engine.
    nonisolated(unsafe) static var current: GenerationService?

    /// Every event of one generation. A generation that has not ended after `limit` seconds fails the test with the
    /// engine's state (a hang in CI becomes a failure that says where), and is cancelled.
    static func collect(_ handle: GenerationHandle, limit: Double = 300, sourceLocation: SourceLocation = #_sourceLocation) async -> Result {
        let collector = Task {
            var result = Result()
            for await event in handle.events {
                result.events += 1
                switch event {
                case .started(let count): result.started = count
                case .text(let text, let logprobs):
                    result.text += text
                    result.logprobs += logprobs
                case .finished(let reason, let usage):
                    result.finish = reason
                    result.usage = usage
                case .image(let index, let image): result.images[index] = image
                case .failed(let error): result.failure = error
                }
            }
            return result
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(limit))
            Issue.record("the generation did not end within \(Int(limit)) s; \(current?.describeEngine() ?? "")", sourceLocation: sourceLocation)
            handle.cancel()
            collector.cancel()  // ends the iteration even if the engine never answers
        }
        defer { watchdog.cancel() }
        return await collector.value
    }

    static func chat(_ text: String, max: Int = 24) -> GenerationRequest {
        var request = GenerationRequest(model: "smol", prompt: .chat([.user(text)]))
        request.maxTokens = max
        request.temperature = 0
        return request
    }

    @Test func aGreedyChatEqualsTheSingleSequenceRunnerAndReportsUsage() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        let result = await Self.collect(try service.generate(Self.chat("What is the capital of France?")))
        #expect(result.failure == nil)
        #expect(result.finish != nil && result.finish != .cancelled)

        let session = try LLMPluginTests.session(ModelFiles.smolLM2)
        let text = try TextFrontend.load(path: try ModelFiles.path(ModelFiles.smolLM2), modelName: "smol")
        let prompt = try text.chatTokens([.user("What is the capital of France?")])
        var input = LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: 24)
        input.stopTokens = text.stopTokens
        let alone = try session.runner.generate(prompt: prompt, input: input)
        var detokenizer = text.detokenizer()
        let expected = detokenizer.feed(alone.tokens.filter { !text.tokenizer.isEndOfGeneration($0) }) + detokenizer.finish()
        #expect(result.text == expected)
        #expect(result.started == prompt.count)
        #expect(result.usage?.promptTokens == prompt.count && result.usage?.completionTokens == alone.tokens.count)
        // The only request: every step of the model is attributed to it, and its usage reports them all.
        let seconds = service.metrics.deviceSeconds(model: "smol")
        #expect(seconds > 0 && abs((result.usage?.deviceSeconds ?? 0) - seconds) <= 1e-9 * seconds, "\(String(describing: result.usage)) vs \(seconds)")
    }

    @Test func concurrentGenerationsGiveWhatEachGivesAlone() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        let questions = ["Name three colors.", "What is 2 + 2?", "Write a haiku about rain.", "Who wrote Hamlet?", "Say hello."]
        var alone: [String] = []
        for question in questions { alone.append(await Self.collect(try service.generate(Self.chat(question))).text) }
        let handles = try questions.map { try service.generate(Self.chat($0)) }
        var together: [String] = []
        for handle in handles { together.append(await Self.collect(handle).text) }
        #expect(together == alone)
        #expect(service.metricsText().contains("plexus_requests_total{model=\"smol\",outcome="))
    }

    @Test func cancellingEndsTheGenerationAtAStepBoundaryAndFreesItsPages() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        let handle = try service.generate(Self.chat("Tell me a long story about a dragon.", max: 400))
        var result = Result()
        var texts = 0
        for await event in handle.events {
            switch event {
            case .text(let text, _):
                result.text += text
                texts += 1
                if texts == 3 { handle.cancel() }
            case .finished(let reason, let usage):
                result.finish = reason
                result.usage = usage
            default: break
            }
        }
        #expect(result.finish == .cancelled)
        #expect((result.usage?.completionTokens ?? 0) < 12, "cancel took effect within a step or two")
        // The pages come back once the plugin closed the request (the next step); a new request still runs.
        let after = await Self.collect(try service.generate(Self.chat("Hi", max: 4)))
        #expect(after.finish == .length)
        #expect(service.metricsText().contains("plexus_kv_pages_used{model=\"smol\"} 0"))
    }

    @Test func aStopStringEndsTheTextBeforeItAndIsNeverSent() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        let full = await Self.collect(try service.generate(Self.chat("Count from 1 to 20, separated by commas.", max: 60))).text
        let stop = try #require(full.firstIndex(of: "5"))
        var request = Self.chat("Count from 1 to 20, separated by commas.", max: 60)
        request.stop = ["5"]
        let stopped = await Self.collect(try service.generate(request))
        #expect(stopped.text == String(full[..<stop]))
        #expect(stopped.finish == .stop)
    }

    @Test func maxTokensEndsWithLengthAndLogprobsComePerToken() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        var request = Self.chat("Tell me about the sea.", max: 5)
        request.logprobs = true
        request.topLogprobs = 3
        let result = await Self.collect(try service.generate(request))
        #expect(result.finish == .length)
        #expect(result.usage?.completionTokens == 5)
        #expect(result.logprobs.count == 5)
        #expect(result.logprobs.allSatisfy { $0.top.count == 3 && $0.logprob <= 0 && $0.top[0].logprob >= $0.logprob })
        #expect(result.logprobs.map(\.token).joined() == result.text)
    }

    @Test func requestsThatCannotRunAreRefusedWithTheRightKind() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2), ("gemma", ModelFiles.gemma3)])
        defer { service.shutdown() }
        #expect(throws: ServiceError.self) { try service.generate(GenerationRequest(model: "nope", prompt: .text("x"))) }
        func kind(_ request: GenerationRequest) -> ServiceError.Kind? {
            do { _ = try service.generate(request); return nil } catch { return error.kind }
        }
        #expect(kind(GenerationRequest(model: "nope", prompt: .text("x"))) == .modelNotFound)
        #expect(kind(GenerationRequest(model: "gemma", prompt: .chat([.user("hi")]))) == .unsupported)
        #expect(kind(GenerationRequest(model: "smol", prompt: .text(String(repeating: "word ", count: 5000)))) == .invalidRequest)
        #expect(kind(GenerationRequest(model: "smol", prompt: .tokens([1, 999_999]))) == .invalidRequest)
        #expect(kind(GenerationRequest(model: "smol", prompt: .text(""))) == .invalidRequest)
        let image = ChatMessage(role: "user", content: .parts([.text("what is this?"), .image(url: "data:image/png;base64,AAAA")]))
        #expect(kind(GenerationRequest(model: "smol", prompt: .chat([image]))) == .unsupported)
        let listed = service.models()
        #expect(listed.map(\.id) == ["smol", "gemma"])
        #expect(listed[0].capabilities == [.chat, .completion] && listed[1].capabilities == [.completion])
        #expect(listed.allSatisfy { $0.status == .ready && $0.contextLength == 2048 })
    }

    @Test func aFullQueueAnswersOverloadedWithRetryAfter() throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)], maxWaiting: 0)
        defer { service.shutdown() }
        do {
            _ = try service.generate(Self.chat("Hi"))
            Issue.record("a full queue accepted a request")
        } catch {
            #expect(error.kind == .overloaded && error.retryAfter == 1)
        }
    }

    @Test func twoModelsShareTheEngineAndBothAdvance() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2), ("gemma", ModelFiles.gemma3)])
        defer { service.shutdown() }
        var completion = GenerationRequest(model: "gemma", prompt: .text("The capital of France is"))
        completion.maxTokens = 12
        completion.temperature = 0
        let gemmaAlone = await Self.collect(try service.generate(completion)).text
        let smolAlone = await Self.collect(try service.generate(Self.chat("Name a fruit.", max: 12))).text
        let a = try service.generate(completion)
        let b = try service.generate(Self.chat("Name a fruit.", max: 12))
        let (first, second) = (await Self.collect(a), await Self.collect(b))
        #expect(first.failure == nil && second.failure == nil)
        #expect(first.text == gemmaAlone && second.text == smolAlone && !gemmaAlone.isEmpty)
        #expect(service.metrics.deviceSeconds(model: "gemma") > 0 && service.metrics.deviceSeconds(model: "smol") > 0)
    }

    /// Two copies of SmolLM2 with their weights in host-allocated memory (weights=copy) under a budget that holds
    /// one: each request to the parked one evicts the other and restores it; the answers equal those of a model
    /// that never moved, and the metrics count every move.
    @Test func weightsMoveWithinTheBudgetAndAnswersDoNotChange() async throws {
        let reference = try Self.service([("smol", ModelFiles.smolLM2)])
        let expected = await Self.collect(try reference.generate(Self.chat("Name a fruit.", max: 10))).text
        reference.shutdown()
        let bytes = try ModelFiles.size(ModelFiles.smolLM2)
        let service = try Self.service([("a", ModelFiles.smolLM2), ("b", ModelFiles.smolLM2)], options: [("weights", "copy")],
                                       weightBudget: bytes + bytes / 2, oneAtATime: true)
        defer { service.shutdown() }
        for id in ["a", "b", "a", "b"] {
            var request = Self.chat("Name a fruit.", max: 10)
            request.model = id
            let result = await Self.collect(try service.generate(request))
            #expect(result.failure == nil && result.text == expected, "\(id): \(result.text) vs \(expected)")
        }
        let (a, b) = (service.metrics.weightMoves(model: "a"), service.metrics.weightMoves(model: "b"))
        // b's load parks a before b allocates its weights, then every request wakes its model and parks the other.
        #expect(a.evictions == 3 && a.restores == 2 && b.evictions == 2 && b.restores == 2, "a \(a), b \(b)")
        #expect(a.bytesRestored >= 2 * (bytes - (8 << 20)) && a.restoreSeconds > 0)
        let text = service.metricsText()
        #expect(text.contains(#"plexus_weights_resident{model="a"} 0"#) && text.contains(#"plexus_weights_resident{model="b"} 1"#))
    }

    /// Under a budget that holds one model, loading a second makes room first: the idle resident model is parked
    /// before the new one allocates its weights, so what the engine counts against the budget never exceeds it
    /// (before 2026-11-27 both were held until the next plan parked one). Loading side by side takes turns.
    @Test func aLoadMakesRoomBeforeItAllocatesItsWeights() async throws {
        let bytes = try ModelFiles.size(ModelFiles.smolLM2)
        let budget = bytes + bytes / 2
        let service = try Self.service([("a", ModelFiles.smolLM2), ("b", ModelFiles.smolLM2), ("c", ModelFiles.smolLM2)],
                                       options: [("weights", "copy")], weightBudget: budget)
        defer { service.shutdown() }
        #expect(service.models().allSatisfy { $0.status == .ready }, "\(service.models().map { $0.failure ?? "ready" })")
        let weights = try #require(service.metrics.weightBytes())
        #expect(weights.peak <= budget && weights.peak >= bytes - (8 << 20), "peak \(weights.peak) of \(budget)")
        let evictions = ["a", "b", "c"].map { service.metrics.weightMoves(model: $0).evictions }
        #expect(evictions.reduce(0, +) == 2, "\(evictions)")
        for id in ["a", "b", "c"] {
            var request = Self.chat("Name a fruit.", max: 4)
            request.model = id
            #expect(await Self.collect(try service.generate(request)).failure == nil)
        }
        #expect(service.metrics.weightBytes()!.peak <= budget)
        #expect(service.metricsText().contains("plexus_weight_bytes_held_peak "))
    }

    /// Fair share per key, weighted: with one sequence running at a time, two keys that keep requests waiting are
    /// admitted about in proportion to their weights. With weights 3 and 1 the heavier key gets about 9 of the first
    /// 12 finishes (with equal weights, 6).
    @Test func keysShareTheDeviceByTheirWeights() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)], options: [("max_batch_items", "1")])
        defer { service.shutdown() }
        var handles: [(String, GenerationHandle)] = []
        for _ in 0..<10 {
            for (key, weight) in [("gold", 3.0), ("free", 1.0)] {
                var request = Self.chat("Count to ten.", max: 6)
                request.ignoreEOS = true
                request.apiKey = key
                request.keyWeight = weight
                handles.append((key, try service.generate(request)))
            }
        }
        let order = await Self.finishOrder(handles)
        #expect(order.count == 20)
        let gold = order.prefix(12).filter { $0 == "gold" }.count
        #expect(gold >= 8, "finish order: \(order)")
        #expect(service.metrics.deviceSeconds(model: "smol", key: "gold") > 0 && service.metrics.deviceSeconds(model: "smol", key: "free") > 0)
    }

    /// The names of `handles` in the order their generations finished (failed ones left out).
    static func finishOrder(_ handles: [(String, GenerationHandle)]) async -> [String] {
        let finished = await withTaskGroup(of: (String, Double)?.self) { group in
            for (name, handle) in handles {
                group.addTask {
                    let result = await Self.collect(handle)
                    return result.failure == nil ? (name, MonotonicClock.seconds()) : nil
                }
            }
            var finished: [(String, Double)] = []
            for await outcome in group { if let outcome { finished.append(outcome) } }
            return finished
        }
        return finished.sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// A model whose catalog class is batch runs the requests that name no class as batch work; one that asks for
    /// interactive (the API's service_tier "default") goes ahead of them. With one sequence at a time, the
    /// interactive request, submitted last, finishes first or second (not fourth, as in arrival order).
    @Test func aModelsClassAppliesToRequestsThatNameNone() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)], options: [("max_batch_items", "1")], batch: ["smol"])
        defer { service.shutdown() }
        var handles: [(String, GenerationHandle)] = []
        for name in ["b1", "b2", "b3", "i"] {
            var request = Self.chat("Count to ten.", max: 6)
            request.ignoreEOS = true
            if name == "i" { request.priority = .interactive }
            handles.append((name, try service.generate(request)))
        }
        let order = await Self.finishOrder(handles)
        #expect(order.count == 4 && (order.firstIndex(of: "i") ?? 4) <= 1, "finish order: \(order)")
    }

    /// Under KV pressure (a 512-token context and the smallest arena, 33 pages, for four sequences that each grow to
    /// ~190 tokens) the least urgent running sequences are preempted and every generation still runs to its end.
    /// With the KV saved in host memory they continue where they stopped (LLMPluginTests checks that a moved
    /// sequence continues exactly); recomputing from position 0 is the fallback. (The answers are not compared with
    /// those of each question alone: under pressure the prompts are fed in other chunk sizes, which the CPU path
    /// does not sum in the same order.)
    @Test(arguments: [true, false])
    func preemptedSequencesRunToTheirEnd(savesKV: Bool) async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)], options: [("context_length", "512")]) { spec in
            spec.kvBytes = 1
            spec.savesKV = savesKV
        }
        defer { service.shutdown() }
        var handles: [GenerationHandle] = []
        for question in ["Tell me about the sea.", "Describe a forest in spring.", "Explain how rain forms.", "Write about a city at night."] {
            var request = Self.chat(question, max: 160)
            request.ignoreEOS = true
            handles.append(try service.generate(request))
        }
        for handle in handles {
            let result = await Self.collect(handle)
            #expect(result.failure == nil && result.finish == .length && result.usage?.completionTokens == 160)
        }
        let preemptions = service.metrics.preemptions(model: "smol")
        #expect(preemptions.total > 0, "no preemption: the test does not exercise what it should")
        #expect(savesKV ? preemptions.saved == preemptions.total : preemptions.saved == 0, "\(preemptions)")
        #expect(service.metricsText().contains("plexus_kv_saves_total{model=\"smol\"} \(preemptions.saved)"))
    }

    @Test func aModelOverTheWeightBudgetOrPinnedBeyondItFailsToLoadClearly() async throws {
        let bytes = try ModelFiles.size(ModelFiles.smolLM2)
        let small = try Self.service([("a", ModelFiles.smolLM2)], options: [("weights", "copy")], weightBudget: bytes / 2)
        defer { small.shutdown() }
        let failure = try #require(small.models().first?.failure)
        #expect(failure.contains("model 'a' has") && failure.contains("weight budget"), "\(failure)")
        let pinned = try Self.service([("a", ModelFiles.smolLM2), ("b", ModelFiles.smolLM2)], options: [("weights", "copy")],
                                      weightBudget: bytes + bytes / 2, pinned: ["a", "b"])
        defer { pinned.shutdown() }
        #expect(pinned.models().filter { $0.status == .ready }.count == 1)
        #expect(pinned.models().contains { $0.failure?.contains("always-resident models") == true })
    }

    @Test func aRequestPastItsDeadlineEndsWithoutDeviceTime() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        var late = Self.chat("Name a fruit.")
        late.deadline = MonotonicClock.seconds() - 1
        let result = await Self.collect(try service.generate(late))
        #expect(result.failure?.kind == .deadlineExceeded && result.text.isEmpty, "\(String(describing: result.failure))")
        #expect(service.metrics.deviceSeconds(model: "smol") == 0)
        var timely = Self.chat("Name a fruit.", max: 4)
        timely.deadline = MonotonicClock.seconds() + 600
        #expect(await Self.collect(try service.generate(timely)).finish == .length)
    }

    @Test func responseFormatConstrainsTheOutputToJSON() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        var object = Self.chat("Give a JSON object with a cat's name and color.", max: 300)
        object.responseFormat = .jsonObject
        object.temperature = 0.7
        object.seed = 3
        let any = await Self.collect(try service.generate(object))
        #expect(any.finish == .stop, "a complete JSON object ends with an end-of-generation token: [\(any.text)]")
        let parsed = try JSONDecoder().decode(JSONValue.self, from: Data(any.text.utf8))
        guard case .object = parsed else { Issue.record("not an object: \(any.text)"); return }

        struct Person: Decodable { let name: String; let age: Int; let pets: [String] }
        let schema = """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"},
             "pets": {"type": "array", "items": {"type": "string", "enum": ["cat", "dog", "fish"]}, "maxItems": 3}},
             "required": ["name", "age", "pets"], "additionalProperties": false}
            """
        var typed = Self.chat("Invent a person with a name, an age and pets.", max: 80)
        typed.responseFormat = .jsonSchema(name: "person", schema: schema, strict: true)
        let person = await Self.collect(try service.generate(typed))
        #expect(person.finish == .stop, "\(person.text)")
        let decoded = try JSONDecoder().decode(Person.self, from: Data(person.text.utf8))
        #expect(decoded.pets.allSatisfy { ["cat", "dog", "fish"].contains($0) })

        var unsupported = Self.chat("x")
        unsupported.responseFormat = .jsonSchema(name: "p", schema: "{\"type\": \"string\", \"pattern\": \"a+\"}", strict: true)
        #expect(throws: ServiceError.self) { try service.generate(unsupported) }
    }

    @Test func aReloadLoadsAddedModelsAndDrainsRemovedOnesWithoutDroppingRequests() async throws {
        let service = try Self.service([("smol", ModelFiles.smolLM2)])
        defer { service.shutdown() }
        let inFlight = try service.generate(Self.chat("Tell me a story.", max: 40))
        var gemma = ServedModelSpec(id: "gemma", paths: [try ModelFiles.path(ModelFiles.gemma3)])
        gemma.options = [("context_length", "2048")]
        let summary = service.reload([gemma])
        #expect(summary == GenerationService.ReloadSummary(added: ["gemma"], removed: ["smol"]))
        #expect(throws: ServiceError.self) { try service.generate(Self.chat("Hi")) }
        let finished = await Self.collect(inFlight)
        #expect(finished.finish == .length && finished.usage?.completionTokens == 40, "the removed model finished its request")
        service.waitForLoads()
        #expect(service.models().map(\.id) == ["gemma"] && service.models()[0].status == .ready)
        var completion = GenerationRequest(model: "gemma", prompt: .text("Hello"))
        completion.maxTokens = 3
        #expect(await Self.collect(try service.generate(completion)).finish == .length)
        #expect(service.reload([gemma]) == GenerationService.ReloadSummary(unchanged: ["gemma"]))
    }
}
