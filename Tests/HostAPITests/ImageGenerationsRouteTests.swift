import FoundationEssentials
import Testing
@testable import HostAPI
@testable import HostCore

/// `POST /v1/images/generations` against a scripted service: the wire fields reach the service, images come back
/// as base64 PNG in order with usage, and every refusal names its field.
@Suite struct ImageGenerationsRouteTests {
    struct Answer: Decodable {
        struct Image: Decodable { var b64_json: String }
        struct Usage: Decodable { var total_tokens: Int; var device_seconds: Double }
        var created: Int
        var data: [Image]
        var output_format: String
        var usage: Usage
    }

    static func image(_ value: UInt8, width: Int = 2, height: Int = 1) -> GeneratedImage {
        GeneratedImage(width: width, height: height, rgb: [UInt8](repeating: value, count: width * height * 3))
    }

    static func service() -> ScriptedModelService {
        ScriptedModelService(models: [.chatModel(), .imageModel()], script: { _ in .events(helloEvents()) }) { request in
            // Out of order on purpose: the answer keeps image order.
            let images = (0..<request.count).reversed().map { GenerationEvent.image(index: $0, Self.image(UInt8(10 * $0))) }
            return [.started(promptTokens: 0)] + images + [.finished(.stop, Usage(promptTokens: 0, completionTokens: 0, deviceSeconds: 0.5))]
        }
    }

    @Test func imagesComeBackAsBase64PNGInOrder() async throws {
        let service = Self.service()
        try await withServer(service) { server in
            let body = #"{"model":"digits","prompt":"a 7","n":2,"size":"16x8","steps":10,"guidance_scale":2.5,"seed":9,"negative_prompt":"","service_tier":"flex","quality":"high","user":"u"}"#
            let response = try await fetch(server, "POST", "/v1/images/generations", body: body)
            #expect(response.status == 200, "\(response.text)")
            let answer = try response.json(Answer.self)
            #expect(answer.data.count == 2 && answer.output_format == "png" && answer.usage.device_seconds == 0.5)
            for (index, item) in answer.data.enumerated() {
                let png = try #require(Data(base64Encoded: item.b64_json))
                #expect(Array(png) == PNGEncoder.encode(Self.image(UInt8(10 * index))))
            }
            let request = try #require(service.imageRequests.withLock { $0.first })
            #expect(request.model == "digits" && request.prompt == "a 7" && request.count == 2)
            #expect(request.width == 16 && request.height == 8 && request.steps == 10 && request.guidance == 2.5)
            #expect(request.seed == 9 && request.negativePrompt == "" && request.priority == .batch)
        }
    }

    @Test func refusalsNameTheirField() async throws {
        try await withServer(Self.service()) { server in
            let cases: [(String, Int, String?)] = [
                (#"{"model":"digits","prompt":"a","response_format":"url"}"#, 400, "response_format"),
                (#"{"model":"digits","prompt":"a","output_format":"jpeg"}"#, 400, "output_format"),
                (#"{"model":"digits","prompt":"a","size":"big"}"#, 400, "size"),
                (#"{"model":"digits","prompt":"a","size":"8x"}"#, 400, "size"),
                (#"{"model":"digits","prompt":"a","stream":true}"#, 400, "stream"),
                (#"{"model":"digits","prompt":"a","background":"transparent"}"#, 400, "background"),
                (#"{"model":"digits","prompt":"a","service_tier":"gold"}"#, 400, "service_tier"),
                (#"{"model":"chat","prompt":"a"}"#, 400, "model"),
                (#"{"model":"nope","prompt":"a"}"#, 404, "model"),
                (#"{"model":"digits"}"#, 400, nil),
                (#"{"model":"digits","prompt":"a","n":"two"}"#, 400, nil),
            ]
            for (body, status, param) in cases {
                let response = try await fetch(server, "POST", "/v1/images/generations", body: body)
                let error = try expectError(response, status: status, param: param)
                #expect(!error.error.message.isEmpty, "\(body)")
            }
        }
    }
}

/// The PNG encoder against the published check values of its checksums, and its file read back by hand.
@Suite struct PNGEncoderTests {
    @Test func checksumsMatchTheirCheckValues() {
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    }

    @Test func theFileHoldsTheRowsBehindFilterZero() {
        let rgb: [UInt8] = Array(0..<18)
        let png = PNGEncoder.encode(GeneratedImage(width: 3, height: 2, rgb: rgb))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var chunks: [(String, [UInt8])] = []
        var at = 8
        while at + 12 <= png.count {
            let length = png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            let typed = Array(png[(at + 4)..<(at + 8 + length)])
            let crc = png[(at + 8 + length)..<(at + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(crc == PNGEncoder.crc32(typed))
            chunks.append((String(decoding: typed.prefix(4), as: UTF8.self), Array(typed.dropFirst(4))))
            at += 12 + length
        }
        #expect(at == png.count && chunks.map(\.0) == ["IHDR", "IDAT", "IEND"])
        #expect(chunks[0].1 == [0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0])
        let raw: [UInt8] = [0] + rgb[0..<9] + [0] + rgb[9..<18]
        // zlib header, one final stored block (length 20 and its complement), the rows, Adler-32.
        #expect(chunks[1].1 == [0x78, 0x01, 0x01, 20, 0, 235, 255] + raw + bigEndian(PNGEncoder.adler32(raw)))
    }

    func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
}
