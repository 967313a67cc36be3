import Glibc
import Testing
@testable import HostCore

/// Image generation through the engine with the real image plugin and the digits model (Specs/image-plugin.md):
/// the images equal the independent numpy reference's (its golden file), same-shape requests run as one batch
/// without changing a pixel, other shapes run apart, and a chat keeps going beside them on the one stream.
/// `.ci/run` trains the model and writes the golden file; without them these tests fail and say how to make them.
@Suite(.serialized)
struct ImageServiceTests {
    static var modelPath: String { ModelFiles.cache + "/digits-ddim.gguf" }
    static var goldenPath: String { Fixtures.root + "/.cache/digits/golden.bin" }

    /// One case of the reference's golden file.
    struct GoldenCase {
        var seed: UInt64, digit: UInt32, width: Int, height: Int, images: Int, steps: Int, guidance: Float
        /// One channel per pixel, image after image.
        var pixels: [UInt8]
    }

    /// Reads the golden file (format in Tests/Plugins/image/reference_digits.py).
    static func golden() throws -> [GoldenCase] {
        try #require(access(goldenPath, R_OK) == 0,
                     "\(goldenPath) is missing: .ci/run writes it (python3 Tests/Plugins/image/reference_digits.py MODEL --out FILE)")
        guard let file = fopen(goldenPath, "rb") else { throw GoldenError("cannot open \(goldenPath)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        var at = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard at + count <= bytes.count else { throw GoldenError("golden file truncated at \(at)") }
            defer { at += count }
            return bytes[at..<(at + count)]
        }
        func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(Array(try take(4)) == Array("PXDG".utf8))
        #expect(try u32() == 1)
        var cases: [GoldenCase] = []
        for _ in 0..<(try u32()) {
            let seed = try u64(), digit = try u32(), width = Int(try u32()), height = Int(try u32())
            let images = Int(try u32()), steps = Int(try u32()), guidance = Float(bitPattern: try u32())
            let pixels = width * height
            _ = try take(4 * images * pixels + 4 * pixels + 4 * images * pixels)   // noise, first eps, final x
            cases.append(GoldenCase(seed: seed, digit: digit, width: width, height: height, images: images, steps: steps,
                                    guidance: guidance, pixels: Array(try take(images * pixels))))
        }
        return cases
    }

    struct GoldenError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// The digits model, and a chat model beside it when `chat` (its name in the model cache).
    static func service(chat: String? = nil) throws -> GenerationService {
        try #require(access(LLMPluginTests.pluginFolder + "/libplexus-image.so", R_OK) == 0, "build the plugins first: make plugins")
        try #require(access(modelPath, R_OK) == 0, "\(modelPath) is missing: .ci/run trains it (python3 scripts/train_digits_ddim.py)")
        let service = GenerationService(devices: DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: 2),
                                        pluginDirectories: [LLMPluginTests.pluginFolder], environment: [:])
        service.load(ServedModelSpec(id: "digits", paths: [modelPath]))
        if let chat {
            var spec = ServedModelSpec(id: "smol", paths: [try ModelFiles.path(chat)])
            spec.options = [("context_length", "2048")]
            service.load(spec)
        }
        service.waitForLoads()
        GenerationServiceTests.current = service
        return service
    }

    static func request(_ golden: GoldenCase) -> ImageGenerationRequest {
        var request = ImageGenerationRequest(model: "digits", prompt: golden.digit < 10 ? "a handwritten \(golden.digit)" : "a handwritten digit")
        request.count = golden.images
        (request.width, request.height) = (golden.width, golden.height)
        request.steps = golden.steps
        request.guidance = Double(golden.guidance)
        request.seed = golden.seed
        return request
    }

    /// The gray values of a result's images (the plugin writes the same value in all three channels), image after
    /// image.
    static func gray(_ result: GenerationServiceTests.Result, images: Int) -> [UInt8] {
        (0..<images).flatMap { index -> [UInt8] in
            let rgb: [UInt8] = result.images[index]?.rgb ?? []
            let starts = Array(stride(from: 0, to: rgb.count, by: 3))
            let isGray = starts.allSatisfy { (start: Int) -> Bool in rgb[start] == rgb[start + 1] && rgb[start] == rgb[start + 2] }
            #expect(isGray)
            return starts.map { rgb[$0] }
        }
    }

    @Test func everyGoldenCaseComesOutOfTheEngineAsTheReferenceMadeIt() async throws {
        let cases = try Self.golden()
        #expect(cases.count >= 6)
        let service = try Self.service()
        defer { service.shutdown() }
        #expect(service.models().first?.capabilities == [.image], "\(service.models().first?.failure ?? "")")
        for golden in cases {
            let result = await GenerationServiceTests.collect(try service.generateImages(Self.request(golden)))
            #expect(result.failure == nil && result.finish == .stop, "\(String(describing: result.failure))")
            let pixels = Self.gray(result, images: golden.images)
            let worst = zip(pixels, golden.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 255
            #expect(pixels.count == golden.pixels.count && worst <= 1, "seed \(golden.seed): max difference \(worst)")
            #expect((result.usage?.deviceSeconds ?? 0) > 0)
        }
    }

    /// Six requests at once, four of one shape and two of another: the four run as one batch (a step holds all
    /// four), every step holds one shape, and every image is the same as when its request ran alone.
    @Test func sameShapeRequestsBatchWithoutChangingAPixel() async throws {
        let service = try Self.service()
        defer { service.shutdown() }
        let requests = (0..<6).map { index in
            var request = ImageGenerationRequest(model: "digits", prompt: "a \(index)")
            (request.width, request.height) = index < 4 ? (8, 8) : (16, 16)
            request.steps = 20
            request.seed = UInt64(100 + index)
            return request
        }
        var alone: [[UInt8]] = []
        for request in requests {
            alone.append(Self.gray(await GenerationServiceTests.collect(try service.generateImages(request)), images: 1))
        }
        let trace = service.traceSteps()
        let handles = try requests.map { request throws(ServiceError) in try service.generateImages(request) }
        var together: [[UInt8]] = []
        for handle in handles { together.append(Self.gray(await GenerationServiceTests.collect(handle), images: 1)) }
        #expect(together == alone)
        let steps = trace.all.filter { $0.model == "digits" }
        #expect(steps.contains { $0.items == 4 }, "items per step: \(steps.map(\.items))")
        #expect(steps.allSatisfy { $0.items <= 4 }, "a step mixed shapes: \(steps.map(\.items))")
        #expect(steps.count < 6 * 20)
    }

    /// An image model and a chat model on one engine: a short chat submitted while a long image job runs finishes
    /// first (the image job's steps are sliced and the models share the stream by fair share), and both finish.
    @Test func aChatKeepsGoingBesideImages() async throws {
        let service = try Self.service(chat: ModelFiles.smolLM2)
        defer { service.shutdown() }
        var request = ImageGenerationRequest(model: "digits", prompt: "a 4")
        request.count = 10
        request.steps = 1000
        request.seed = 4
        let images = try service.generateImages(request)
        let imagesDone = Task { () -> (GenerationServiceTests.Result, Double) in
            let result = await GenerationServiceTests.collect(images)
            return (result, MonotonicClock.seconds())
        }
        let chat = await GenerationServiceTests.collect(try service.generate(GenerationServiceTests.chat("Say hello.", max: 16)))
        let chatEnd = MonotonicClock.seconds()
        #expect(chat.failure == nil && chat.usage?.completionTokens ?? 0 > 0)
        let (result, imagesEnd) = await imagesDone.value
        #expect(result.failure == nil && result.images.count == 10)
        #expect(chatEnd < imagesEnd, "the chat waited for the whole image job")
    }
}
