import FoundationEssentials
import HostAPI
import HostCore
import Testing

/// Tool calling on /v1/chat/completions against the scripted service: what the service is asked (the injected
/// instruction, the envelope schema) and how a scripted envelope comes back (tool_calls or content).
@Suite struct ChatCompletionsToolTests {
    static let weather = #"""
        {"type":"function","function":{"name":"get_weather","description":"Weather now in a city.",
         "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}
        """#
    static let time = #"{"type":"function","function":{"name":"get_time"}}"#
    static let call = #"{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}}"#

    /// A reply that writes `text` in a few pieces.
    static func envelope(_ text: String, finish: FinishReason = .stop) -> [GenerationEvent] {
        let third = text.count / 3
        let pieces = [String(text.prefix(third)), String(text.dropFirst(third).prefix(third)), String(text.dropFirst(2 * third))]
        return [.started(promptTokens: 9)] + pieces.map { .text($0, logprobs: []) }
            + [.finished(finish, Usage(promptTokens: 9, completionTokens: 6))]
    }

    static func body(_ extra: String = "", stream: Bool = false,
                     messages: String = #"[{"role":"user","content":"weather in Paris?"}]"#) -> String {
        #"{"model":"chat","stream":\#(stream),"tools":[\#(weather),\#(time)],"messages":\#(messages)\#(extra)}"#
    }

    /// The parts of the envelope schema the tests look at.
    struct SchemaShape: Decodable {
        struct Branch: Decodable { var required: [String] }
        struct Definition: Decodable { var additionalProperties: Bool? }
        var anyOf: [Branch]?
        var required: [String]?
        var defs: [String: Definition]

        private enum CodingKeys: String, CodingKey {
            case anyOf, required
            case defs = "$defs"
        }
    }

    static func schema(of request: GenerationRequest) throws -> SchemaShape {
        guard case .jsonSchema(_, let text, let strict) = request.responseFormat else { throw TestFailure("no schema") }
        #expect(strict)
        return try JSONDecoder().decode(SchemaShape.self, from: Data(text.utf8))
    }

    static func messages(of request: GenerationRequest) throws -> [ChatMessage] {
        guard case .chat(let messages) = request.prompt else { throw TestFailure("not a chat prompt") }
        return messages
    }

    @Test func aToolCallEnvelopeBecomesMessageToolCalls() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(Self.call)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(
                messages: #"[{"role":"system","content":"Be brief."},{"role":"user","content":"weather in Paris?"}]"#))
            #expect(response.status == 200, "\(response.text)")
            #expect(response.text.contains(#""content":null"#))
            let choice = try response.json(ChatCompletionShape.self).choices[0]
            #expect(choice.finish_reason == "tool_calls")
            #expect(choice.message.content == nil)
            let calls = try #require(choice.message.tool_calls)
            #expect(calls.count == 1)
            #expect(calls[0].id.hasPrefix("call_") && calls[0].id.count == 29)
            #expect(calls[0].type == "function")
            #expect(calls[0].function.name == "get_weather")
            let arguments = try JSONDecoder().decode([String: String].self, from: Data(calls[0].function.arguments.utf8))
            #expect(arguments == ["city": "Paris"])

            let request = try #require(service.generations.first).request
            let messages = try Self.messages(of: request)
            #expect(messages.map(\.role) == ["system", "user"])  // merged into the client's system message
            let system = try #require(messages[0].content?.textValue)
            #expect(system.hasPrefix("Be brief.\n\n"))
            #expect(system.contains("get_weather: Weather now in a city."))
            #expect(system.contains(#""required":["city"]"#))
            #expect(system.contains(#"{"tool_call": {"name": "#) && system.contains(#"{"response": "#))
            let schema = try Self.schema(of: request)
            let branches = try #require(schema.anyOf)  // one per tool, then the answer
            #expect(branches.map(\.required) == [["tool_call"], ["tool_call"], ["response"]])
            #expect(Set(schema.defs.keys) == ["tool0", "tool1"])
            // get_time declared no parameters: its arguments must be an empty object.
            #expect(schema.defs["tool1"]?.additionalProperties == false)
        }
    }

    @Test func aResponseEnvelopeBecomesContent() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(#"{"response": "Sunny, \"22\" C"}"#)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body())
            let choice = try response.json(ChatCompletionShape.self).choices[0]
            #expect(choice.message.content == #"Sunny, "22" C"#)
            #expect(choice.message.tool_calls == nil && !response.text.contains("tool_calls"))
            #expect(choice.finish_reason == "stop")
            let messages = try Self.messages(of: try #require(service.generations.first).request)
            #expect(messages.map(\.role) == ["system", "user"])  // a new first system message
        }
    }

    @Test func aCutEnvelopeIsPassedOnAsTextWithLength() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(#"{"tool_call": {"name": "get_w"#, finish: .length)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body())
            let choice = try response.json(ChatCompletionShape.self).choices[0]
            #expect(choice.message.content == #"{"tool_call": {"name": "get_w"#)
            #expect(choice.finish_reason == "length")
        }
    }

    @Test func aStreamedCallIsOneToolCallsDeltaAfterTheRole() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(Self.call)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(
                #","stream_options":{"include_usage":true}"#, stream: true))
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONDecoder().decode(ChunkShape.self, from: Data($0.utf8)) }
            let choices = chunks.flatMap(\.choices)
            #expect(choices.count == 3)  // role, the call, finish
            #expect(choices[0].delta.role == "assistant")
            #expect(!choices.contains { ($0.delta.content ?? "").contains("{") })  // no envelope leaks
            let calls = try #require(choices[1].delta.tool_calls)
            #expect(calls.count == 1)
            #expect(calls[0].index == 0 && calls[0].type == "function")
            #expect(calls[0].id?.hasPrefix("call_") == true)
            #expect(calls[0].function?.name == "get_weather")
            #expect(calls[0].function?.arguments == #"{"city":"Paris"}"#)
            #expect(choices[1].finish_reason == nil)
            #expect(choices[2].finish_reason == "tool_calls")
            #expect(chunks.last?.choices.isEmpty == true && chunks.last?.usage?.completion_tokens == 6)
        }
    }

    @Test func aStreamedAnswerIsContentOnly() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(#"{"response": "Sunny."}"#)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(stream: true))
            let chunks = try response.events.dropLast().map { try JSONDecoder().decode(ChunkShape.self, from: Data($0.utf8)) }
            let choices = chunks.flatMap(\.choices)
            #expect(choices.compactMap(\.delta.content).joined() == "Sunny.")
            #expect(choices.allSatisfy { $0.delta.tool_calls == nil })
            #expect(choices.compactMap(\.finish_reason) == ["stop"])
        }
    }

    @Test func requiredAndNamedChoicesLeaveOnlyCalls() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(Self.call)) }
        try await withServer(service) { server in
            _ = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(#","tool_choice":"required""#))
            _ = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(
                #","tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false"#))
            let requests = service.generations.map(\.request)
            #expect(requests.count == 2)
            let required = try Self.schema(of: requests[0])
            #expect(required.anyOf?.count == 2)
            #expect(try Self.messages(of: requests[0])[0].content?.textValue?.contains("You must call one of the tools") == true)
            let named = try Self.schema(of: requests[1])
            #expect(named.anyOf == nil && named.required == ["tool_call"] && Set(named.defs.keys) == ["tool0"])
            let system = try #require(try Self.messages(of: requests[1])[0].content?.textValue)
            #expect(system.contains("You must call the tool get_weather") && !system.contains("get_time"))
        }
    }

    @Test func historyIsShownInTheEnvelope() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(#"{"response": "22 C."}"#)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(messages: """
                [{"role":"user","content":"weather?"},{"role":"assistant","content":"Which city?"},
                 {"role":"user","content":"Paris"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                   "function":{"name":"get_weather","arguments":"{\\"city\\": \\"Paris\\"}"}}]},
                 {"role":"tool","tool_call_id":"call_1","content":"22 C"}]
                """))
            #expect(response.status == 200, "\(response.text)")
            let messages = try Self.messages(of: try #require(service.generations.first).request)
            #expect(messages.map(\.role) == ["system", "user", "assistant", "user", "assistant", "user"])
            #expect(messages[2].content == .text(#"{"response": "Which city?"}"#))
            #expect(messages[4].content == .text(#"{"tool_call": {"name": "get_weather", "arguments": {"city":"Paris"}}}"#))
            #expect(messages[4].toolCalls.isEmpty)
            #expect(messages[5].content == .text("Tool result (call_1, get_weather): 22 C"))
        }
    }

    @Test func localReferencesPointIntoTheToolsDefinition() async throws {
        let service = ScriptedModelService { _ in .events(Self.envelope(Self.call)) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: #"""
                {"model":"chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{
                 "name":"f","parameters":{"type":"object","$defs":{"city":{"type":"string"}},"properties":{
                   "const":{"$ref":"#/$defs/city"},"mode":{"enum":[{"$ref":"#/kept"}]}}}}}]}
                """#)
            #expect(response.status == 200, "\(response.text)")
            guard case .jsonSchema(_, let text, _) = try #require(service.generations.first).request.responseFormat else {
                throw TestFailure("no schema")
            }
            #expect(text.contains(##""const":{"$ref":"#/$defs/tool0/$defs/city"}"##))
            #expect(text.contains(##"{"enum":[{"$ref":"#/kept"}]}"##))  // data, not a reference
        }
    }

    @Test func toolChoiceNoneIsPlainChat() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(#","tool_choice":"none""#))
            #expect(try response.json(ChatCompletionShape.self).choices[0].message.content == "Hello")
            let request = try #require(service.generations.first).request
            #expect(request.responseFormat == .text)
            #expect(try Self.messages(of: request).map(\.role) == ["user"])
        }
    }

    @Test(arguments: [
        (#"[{"type":"function","function":{"parameters":{}}}]"#, "tools[0].function.name is missing"),
        (#"[{"type":"function","function":{"name":"f","parameters":"x"}}]"#, "tools[0].function.parameters must be"),
        (#"[{"type":"function","function":{"name":"f"}},{"function":{"name":"f"}}]"#, "used twice"),
        (#"[{"type":"function","function":{"name":"a b"}}]"#, "must be 1 to 64"),
        (#"[{"type":"function"}]"#, "tools[0].function must be an object"),
        (#"[3]"#, "tools[0] must be an object"),
    ])
    func badToolsAre400OnTools(tools: String, message: String) async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","messages":[{"role":"user","content":"x"}],"tools":\(tools)}
                """)
            let error = try expectError(response, status: 400, param: "tools")
            #expect(error.error.message.contains(message), "\(error.error.message)")
            #expect(service.generations.isEmpty)
        }
    }

    @Test func conflictingFieldsAre400() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let cases: [(String, String, String?)] = [
                (#","tool_choice":{"type":"function","function":{"name":"nope"}}"#, "tool_choice", nil),
                (#","tool_choice":"sometimes""#, "tool_choice", nil),
                (#","response_format":{"type":"json_object"}"#, "response_format", "unsupported"),
                (#","logprobs":true"#, "logprobs", "unsupported"),
            ]
            for (extra, param, code) in cases {
                let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body(extra))
                _ = try expectError(response, status: 400, code: code, param: param)
            }
            let noTools = try await fetch(server, "POST", "/v1/chat/completions", body: """
                {"model":"chat","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}
                """)
            _ = try expectError(noTools, status: 400, param: "tool_choice")
            #expect(service.generations.isEmpty)
        }
    }

    @Test func aParametersSchemaTheConstraintRefusesIs400OnTools() async throws {
        let service = ScriptedModelService { _ in
            .error(ServiceError(.invalidRequest, "response_format: pattern is not supported (at #/$defs/tool0/properties/city)",
                                param: "response_format", retryable: false))
        }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: Self.body())
            let error = try expectError(response, status: 400, param: "tools")
            #expect(error.error.message == "A tool's parameters schema cannot be used: pattern is not supported "
                + "(at tools[0].function.parameters/properties/city)")
            #expect(response.header("x-should-retry") == "false")
        }
    }
}

extension ChatMessage.Content {
    /// The text of a plain text content.
    var textValue: String? { if case .text(let text) = self { text } else { nil } }
}
