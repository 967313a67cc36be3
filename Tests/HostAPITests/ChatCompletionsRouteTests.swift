import FoundationEssentials
import HostAPI
import HostCore
import Testing

@Suite struct ChatCompletionsRouteTests {
    @Test func nonStreamedReplyHasEveryRequiredField() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":2}
                """)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let completion = try response.json(ChatCompletionShape.self)
            #expect(completion.id.hasPrefix("chatcmpl-"))
            #expect(completion.object == "chat.completion")
            #expect(completion.model == "chat")  // the id as requested
            #expect(completion.choices.count == 1)
            #expect(completion.choices[0].message.role == "assistant")
            #expect(completion.choices[0].message.content == "Hello")
            #expect(completion.choices[0].finish_reason == "stop")
            #expect(completion.usage == UsageShape(prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, device_seconds: 0.25))
            let logprobs = try #require(completion.choices[0].logprobs?.content)
            #expect(logprobs.map(\.token) == ["Hel", "lo"])
            #expect(logprobs[0].top_logprobs.map(\.token) == ["Hel", "Hi"])
            #expect(logprobs[0].bytes == Array("Hel".utf8).map(Int.init))
        }
    }

    @Test func withoutLogprobsTheFieldIsNull() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents(finish: .length)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions",
                                           body: #"{"model":"org/chat-1","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(response.text.contains(#""logprobs":null"#))
            #expect(try response.json(ChatCompletionShape.self).choices[0].finish_reason == "length")
        }
    }

    @Test func requestFieldsReachTheGenerationRequest() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","n":2,"seed":7,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,
                 "repetition_penalty":1.1,"frequency_penalty":0.5,"presence_penalty":-0.5,"stop":"END",
                 "stop_token_ids":[2],"ignore_eos":true,"max_completion_tokens":64,"max_tokens":9,
                 "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}},
                 "tool_choice":"none","user":"ignored","service_tier":"flex",
                 "messages":[{"role":"system","content":"be brief"},
                   {"role":"user","content":[{"type":"text","text":"what is"},
                                             {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
                   {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                     "function":{"name":"f","arguments":"{}"}}]},
                   {"role":"tool","tool_call_id":"call_1","content":"42"}]}
                """)
            #expect(response.status == 200, "\(response.text)")
            let completion = try response.json(ChatCompletionShape.self)
            #expect(completion.choices.map(\.index) == [0, 1])
            #expect(completion.usage == UsageShape(prompt_tokens: 5, completion_tokens: 4, total_tokens: 9, device_seconds: 0.5))
            let requests = service.generations.map(\.request)
            #expect(requests.count == 2)
            #expect(Set(requests.map(\.seed)) == [7, 8])
            let request = requests[0]
            #expect(request.temperature == 0.5 && request.topP == 0.9 && request.topK == 40)
            #expect(request.minP == 0.05 && request.repetitionPenalty == 1.1)
            #expect(request.frequencyPenalty == 0.5 && request.presencePenalty == -0.5)
            #expect(request.stop == ["END"] && request.stopTokenIDs == [2] && request.ignoreEOS)
            #expect(request.maxTokens == 64 && request.priority == .batch)
            #expect(request.responseFormat == .jsonSchema(name: "x", schema: #"{"type":"object"}"#, strict: true))
            guard case .chat(let messages) = request.prompt else { throw TestFailure("not a chat prompt") }
            #expect(messages[1].content == .parts([.text("what is"), .image(url: "data:image/png;base64,AAAA")]))
            #expect(messages[2].toolCalls == [ChatMessage.ToolCall(id: "call_1", name: "f", arguments: "{}")])
            #expect(messages[3].toolCallID == "call_1")
        }
    }

    @Test func streamSendsRoleOnceFinishOnceAndDone() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","stream":true,"n":2,"messages":[{"role":"user","content":"hi"}]}
                """)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/event-stream")
            #expect(response.header("cache-control") == "no-cache")
            #expect(response.header("x-accel-buffering") == "no")
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONDecoder().decode(ChunkShape.self, from: Data($0.utf8)) }
            #expect(Set(chunks.map(\.id)).count == 1)
            #expect(chunks.allSatisfy { $0.object == "chat.completion.chunk" && $0.usage == nil })
            for index in 0..<2 {
                let mine = chunks.flatMap(\.choices).filter { $0.index == index }
                #expect(mine.filter { $0.delta.role != nil }.count == 1)
                #expect(mine.first?.delta.role == "assistant")
                #expect(mine.compactMap(\.finish_reason) == ["stop"])
                #expect(mine.compactMap(\.delta.content).joined() == "Hello")
                #expect(mine.last?.finish_reason == "stop")
            }
            #expect(!response.text.contains("\"usage\""))
        }
    }

    @Test func includeUsageAddsALastChunkWithNoChoices() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"hi"}]}
                """)
            let events = response.events
            #expect(events.last == "[DONE]")
            let last = try JSONDecoder().decode(ChunkShape.self, from: Data(events[events.count - 2].utf8))
            #expect(last.choices.isEmpty)
            #expect(last.usage == UsageShape(prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, device_seconds: 0.25))
            #expect(response.text.components(separatedBy: "\"usage\"").count == 2)
        }
    }

    @Test func failureMidStreamBecomesAnErrorEventAndEndsTheStream() async throws {
        let service = ScriptedModelService { _ in
            .events([.started(promptTokens: 3), .text("He", logprobs: []),
                     .failed(ServiceError(.internalError, "device lost"))])
        }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions",
                                           body: #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            let events = response.events
            #expect(!events.contains("[DONE]"))
            let error = try JSONDecoder().decode(ErrorShape.self, from: Data(try #require(events.last).utf8))
            #expect(error.error.message == "device lost")
            #expect(error.error.type == "server_error")
        }
    }

    @Test func cancelledNeverReachesTheWire() async throws {
        let service = ScriptedModelService { _ in
            .events([.started(promptTokens: 3), .finished(.cancelled, Usage(promptTokens: 3, completionTokens: 0))])
        }
        try await withServer(service) { server in
            let stream = try await fetch(server, "POST", "/v1/chat/completions",
                                         body: #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(!stream.text.contains("cancelled"))
            let whole = try await fetch(server, "POST", "/v1/chat/completions",
                                        body: #"{"model":"chat","messages":[{"role":"user","content":"x"}]}"#)
            #expect(!whole.text.contains("\"finish_reason\""))
            _ = try expectError(whole, status: 503)
        }
    }
}
