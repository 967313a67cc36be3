import HostAPI
import HostCore
import Testing

@Suite struct PolicyTests {
    @Test func preflightReflectsOriginAndRequestedHeaders() async throws {
        var configuration = APIConfiguration.forTests
        configuration.allowedOrigins = .list(["http://app.test"])
        configuration.apiKeys = APIKeys(["k": .allModels])
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service, configuration: configuration) { server in
            let preflight = try await fetch(server, "OPTIONS", "/v1/chat/completions", headers: [
                ("Origin", "http://app.test"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os, x-stainless-lang"),
            ])
            #expect(preflight.status == 204)
            #expect(preflight.header("access-control-allow-origin") == "http://app.test")
            #expect(preflight.header("access-control-allow-headers")
                    == "authorization, content-type, x-stainless-os, x-stainless-lang")
            #expect(preflight.header("access-control-allow-methods")?.contains("POST") == true)
            #expect(preflight.header("vary")?.contains("Origin") == true)

            let other = try await fetch(server, "OPTIONS", "/v1/models", headers: [("Origin", "http://evil.test")])
            #expect(other.header("access-control-allow-origin") == nil)

            let actual = try await fetch(server, "GET", "/v1/models",
                                         headers: [("Origin", "http://app.test"), ("Authorization", "Bearer k")])
            #expect(actual.status == 200)
            #expect(actual.header("access-control-allow-origin") == "http://app.test")
            #expect(actual.header("vary") == "Origin")
        }
    }

    @Test func anyOriginIsReflected() async throws {
        var configuration = APIConfiguration.forTests
        configuration.allowedOrigins = .any
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service, configuration: configuration) { server in
            let response = try await fetch(server, "GET", "/v1/models", headers: [("Origin", "http://x.test")])
            #expect(response.header("access-control-allow-origin") == "http://x.test")
        }
    }

    @Test func aDeadlineHeaderReachesTheGenerationAndAnExpiryIs504() async throws {
        let service = ScriptedModelService { _ in
            .events([.started(promptTokens: 1), .failed(ServiceError(.deadlineExceeded, "the request did not start before its deadline", retryable: false))])
        }
        try await withServer(service) { server in
            let body = #"{"model":"org/chat-1","messages":[{"role":"user","content":"x"}]}"#
            let before = MonotonicClock.seconds()
            let reply = try await fetch(server, "POST", "/v1/chat/completions", headers: [("X-Plexus-Deadline-Ms", "1500")], body: body)
            _ = try expectError(reply, status: 504, code: "deadline_exceeded")
            #expect(reply.header("x-should-retry") == "false")
            let deadline = try #require(service.generations.first?.request.deadline)
            #expect(deadline >= before + 1.5 && deadline <= MonotonicClock.seconds() + 1.5)
            for bad in ["0", "soon", "-5", "86400001"] {
                let refused = try await fetch(server, "POST", "/v1/chat/completions", headers: [("X-Plexus-Deadline-Ms", bad)], body: body)
                _ = try expectError(refused, status: 400)
            }
            #expect(service.generations.count == 1)
        }
    }

    @Test func keysGateV1ButNotHealthOrMetrics() async throws {
        var configuration = APIConfiguration.forTests
        configuration.apiKeys = APIKeys(["all": .allModels, "limited": .models(["other"])], weights: ["limited": 0.5])
        let service = ScriptedModelService(models: [.chatModel(), .chatModel(id: "other")]) { _ in .events(helloEvents()) }
        try await withServer(service, configuration: configuration) { server in
            _ = try expectError(try await fetch(server, "GET", "/v1/models"), status: 401, code: "invalid_api_key")
            let wrong = try await fetch(server, "GET", "/v1/models", headers: [("Authorization", "Bearer nope")])
            _ = try expectError(wrong, status: 401, code: "invalid_api_key")
            #expect(wrong.header("x-should-retry") == "false")
            #expect(try await fetch(server, "GET", "/health").status == 200)
            #expect(try await fetch(server, "GET", "/metrics").status == 200)

            let all = try await fetch(server, "GET", "/v1/models", headers: [("Authorization", "Bearer all")])
            #expect(try all.json(ModelListShape.self).data.map(\.id) == ["org/chat-1", "other"])
            let limited = try await fetch(server, "GET", "/v1/models", headers: [("Authorization", "Bearer limited")])
            #expect(try limited.json(ModelListShape.self).data.map(\.id) == ["other"])
            let hidden = try await fetch(server, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer limited")],
                                         body: #"{"model":"org/chat-1","messages":[{"role":"user","content":"x"}]}"#)
            _ = try expectError(hidden, status: 404, code: "model_not_found")
            let allowed = try await fetch(server, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer limited")],
                                          body: #"{"model":"other","messages":[{"role":"user","content":"x"}]}"#)
            #expect(allowed.status == 200)
            #expect(service.generations.last?.request.apiKey == "limited" && service.generations.last?.request.keyWeight == 0.5)
            #expect(service.generations.last?.request.priority == nil)   // no service_tier: the model's class
        }
    }
}
