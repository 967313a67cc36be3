import FoundationEssentials
import HostAPI
import HostCore
import Testing

@Suite struct CompletionsRouteTests {
    @Test(arguments: [
        (#""Say""#, GenerationRequest.Prompt.text("Say")),
        (#"["Say"]"#, .text("Say")),
        ("[1,2,3]", .tokens([1, 2, 3])),
        ("[[4,5]]", .tokens([4, 5])),
    ])
    func promptForms(json: String, expected: GenerationRequest.Prompt) async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/completions",
                                           body: #"{"model":"chat","echo":true,"prompt":\#(json)}"#)
            #expect(response.status == 200, "\(response.text)")
            let completion = try response.json(CompletionShape.self)
            #expect(completion.object == "text_completion")
            #expect(completion.choices[0].text == "Hello")
            #expect(completion.choices[0].finish_reason == "stop")
            #expect(response.text.contains(#""logprobs":null"#))
            #expect(service.generations.first?.request.prompt == expected)
            #expect(service.generations.first?.request.echo == true)
        }
    }

    @Test func legacyLogprobsShape() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/completions",
                                           body: #"{"model":"chat","prompt":"x","logprobs":2}"#)
            let logprobs = try #require(try response.json(CompletionShape.self).choices[0].logprobs)
            #expect(logprobs.tokens == ["Hel", "lo"])
            #expect(logprobs.token_logprobs == [-0.5, -0.25])
            #expect(logprobs.top_logprobs?[0] == ["Hel": -0.5, "Hi": -2])
            #expect(logprobs.text_offset == [0, 3])
            #expect(service.generations.first?.request.topLogprobs == 2)
        }
    }

    @Test func severalPromptsAreRefused() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/completions", body: #"{"model":"chat","prompt":["a","b"]}"#)
            _ = try expectError(response, status: 400, param: "prompt")
        }
    }

    @Test func streamEndsWithFinishUsageAndDone() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/completions", body: """
                {"model":"chat","prompt":"x","stream":true,"stream_options":{"include_usage":true}}
                """)
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONDecoder().decode(CompletionShape.self, from: Data($0.utf8)) }
            #expect(chunks.flatMap(\.choices).map(\.text).joined() == "Hello")
            #expect(chunks.flatMap(\.choices).compactMap(\.finish_reason) == ["stop"])
            #expect(chunks.last?.choices.isEmpty == true)
            #expect(chunks.last?.usage?.total_tokens == 7)
        }
    }
}
