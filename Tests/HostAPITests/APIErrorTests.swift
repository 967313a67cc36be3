import HostAPI
import HostCore
import Testing

@Suite struct APIErrorTests {
    private static let chat = #""model":"chat","messages":[{"role":"user","content":"x"}]"#

    @Test(arguments: [
        (#"{"model":"chat","messages":[}"#, nil as String?),
        (#"{"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, "temperature"),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        ("{\(chat),\"n\":17}", "n"),
        ("{\(chat),\"n\":0}", "n"),
        ("{\(chat),\"max_tokens\":0}", "max_tokens"),
        ("{\(chat),\"max_tokens\":10000001}", "max_tokens"),
        ("{\(chat),\"temperature\":2.5}", "temperature"),
        ("{\(chat),\"top_p\":0}", "top_p"),
        ("{\(chat),\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs"),
        ("{\(chat),\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop"),
        ("{\(chat),\"stop\":7}", "stop"),
        (#"{"model":"chat","messages":[]}"#, "messages"),
        (#"{"model":"chat","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}"#, "messages[0].content[0].type"),
        ("{\(chat),\"response_format\":{\"type\":\"yaml\"}}", "response_format.type"),
        ("{\(chat),\"service_tier\":\"scale\"}", "service_tier"),
    ])
    func badRequestsAnswer400WithTheParam(body: String, param: String?) async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: body)
            let error = try expectError(response, status: 400, param: param)
            #expect(error.error.type == "invalid_request_error")
            #expect(response.header("x-should-retry") == "false")
            #expect(service.generations.isEmpty)
        }
    }

    @Test func malformedJSONSaysWhere() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: "{\"model\": \"chat\",\n  \"messages\": [}")
            let error = try expectError(response, status: 400)
            #expect(error.error.message.contains("not valid JSON"))
            #expect(error.error.message.hasSuffix("expected a value at line 2, column 16, found '}'."),
                    "\(error.error.message)")
        }
    }

    @Test(arguments: [
        (ServiceError(.overloaded, "queue full", retryAfter: 3), 429, "3" as String?, nil as String?),
        (ServiceError(.loading, "still loading"), 503, "5", nil),
        (ServiceError(.invalidRequest, "prompt too long", param: "messages"), 400, nil, "false"),
        (ServiceError(.modelNotFound, "no such model"), 404, nil, "false"),
        (ServiceError(.unsupported, "no vision"), 400, nil, "false"),
        (ServiceError(.internalError, "plugin crashed"), 500, nil, "false"),  // not retryable by default
        (ServiceError(.internalError, "device reset", retryable: true), 500, nil, nil),
    ])
    func serviceErrorsMapToStatuses(error: ServiceError, status: Int, retryAfter: String?, shouldRetry: String?) async throws {
        let service = ScriptedModelService { _ in .error(error) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions", body: "{\(Self.chat)}")
            let body = try expectError(response, status: status)
            #expect(body.error.message == error.message)
            #expect(response.header("retry-after") == retryAfter)
            #expect(response.header("x-should-retry") == shouldRetry)
            if error.kind == .unsupported { #expect(body.error.code == "unsupported") }
        }
    }

    @Test func unknownRouteAndWrongMethod() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            _ = try expectError(try await fetch(server, "GET", "/v1/nowhere"), status: 404)
            let wrong = try await fetch(server, "GET", "/v1/chat/completions")
            _ = try expectError(wrong, status: 405)
            #expect(wrong.header("allow") == "POST")
        }
    }

    @Test func unknownModelIs404() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let response = try await fetch(server, "POST", "/v1/chat/completions",
                                           body: #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#)
            _ = try expectError(response, status: 404, code: "model_not_found", param: "model")
        }
    }
}
