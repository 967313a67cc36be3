import HostAPI
import HostCore
import Testing

@Suite struct HTTPConnectionTests {
    private static let streamBody = #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]}"#

    @Test func twoRequestsOnOneKeepAliveConnection() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let client = try await TestHTTPClient.connect(port: server.port)
            let first = try await client.request("GET", "/v1/models")
            #expect(first.status == 200)
            #expect(first.header("connection") == "keep-alive")
            let second = try await client.request("POST", "/v1/chat/completions", body: Self.streamBody)
            #expect(second.events.last == "[DONE]")
            let third = try await client.request("GET", "/health", keepAlive: false)
            #expect(third.status == 200)
            #expect(third.header("connection") == "close")
            #expect(await client.waitForClose())
        }
    }

    @Test func hugeContentLengthIsRefusedBeforeTheBodyIsRead() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let client = try await TestHTTPClient.connect(port: server.port)
            try await client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  + "Content-Length: 100000000\r\n\r\n{\"model\":")
            let response = try await client.readResponse()
            _ = try expectError(response, status: 413, code: "request_too_large")
            #expect(response.header("x-should-retry") == "false")
            #expect(await client.waitForClose())
        }
    }

    @Test func chunkedBodyOverTheLimitIsRefusedWhileStreaming() async throws {
        var configuration = APIConfiguration.forTests
        configuration.maxBodyBytes = 1000
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service, configuration: configuration) { server in
            let client = try await TestHTTPClient.connect(port: server.port)
            let chunk = String(repeating: "a", count: 600)
            try await client.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  + "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n")
            _ = try expectError(try await client.readResponse(), status: 413)
            #expect(service.generations.isEmpty)
        }
    }

    @Test func clientLeavingMidStreamCancelsEveryGeneration() async throws {
        let service = ScriptedModelService { _ in .live }
        try await withServer(service) { server in
            let client = try await TestHTTPClient.connect(port: server.port)
            try await client.sendRequest("POST", "/v1/chat/completions",
                                         body: #"{"model":"chat","stream":true,"n":3,"messages":[{"role":"user","content":"x"}]}"#)
            let generations = try await service.waitForGenerations(3)
            generations[0].continuation.yield(.started(promptTokens: 1))
            generations[0].continuation.yield(.text("partial", logprobs: []))
            _ = try await client.readUntil("partial")
            #expect(!generations.contains { $0.cancelled })
            await client.close()
            try await waitUntil { generations.allSatisfy(\.cancelled) }
        }
    }

    @Test func quietStreamsGetPings() async throws {
        var configuration = APIConfiguration.forTests
        configuration.pingInterval = .milliseconds(30)
        let service = ScriptedModelService { _ in .live }
        try await withServer(service, configuration: configuration) { server in
            let client = try await TestHTTPClient.connect(port: server.port)
            try await client.sendRequest("POST", "/v1/chat/completions", body: Self.streamBody)
            let generation = try await service.waitForGenerations(1)[0]
            _ = try await client.readUntil(": ping\n\n")
            generation.continuation.yield(.text("late", logprobs: []))
            generation.continuation.yield(.finished(.stop, Usage(promptTokens: 1, completionTokens: 1)))
            generation.continuation.finish()
            let rest = try await client.readUntil("data: [DONE]\n\n")
            #expect(rest.contains(#""content":"late""#))
        }
    }

    @Test func idleConnectionsAreClosedAfterTheTimeout() async throws {
        var configuration = APIConfiguration.forTests
        // Generous: on a loaded 2-core CI machine running every suite at once, even connect-then-send has taken
        // over a second (the timer runs from the connection's start).
        configuration.idleTimeout = .seconds(4)
        let service = ScriptedModelService { _ in .live }
        try await withServer(service, configuration: configuration) { server in
            // A request that takes longer than the idle timeout is not cut off...
            let client = try await TestHTTPClient.connect(port: server.port)
            try await client.sendRequest("POST", "/v1/chat/completions",
                                         body: #"{"model":"chat","messages":[{"role":"user","content":"x"}]}"#)
            let generation = try await service.waitForGenerations(1)[0]
            try await Task.sleep(for: .milliseconds(5000))
            generation.continuation.yield(.text("ok", logprobs: []))
            generation.continuation.yield(.finished(.stop, Usage(promptTokens: 1, completionTokens: 1)))
            generation.continuation.finish()
            #expect(try await client.readResponse().status == 200)
            // ...but an idle keep-alive connection is (a never-closed one would fail waitForClose's limit).
            #expect(await client.waitForClose())
        }
    }

    @Test func aClientThatDoesNotReadStopsTheConsumptionOfEvents() async throws {
        let piece = String(repeating: "x", count: 64 << 10)
        let total = 2000  // 128 MiB if nothing held it back
        let events = [GenerationEvent.started(promptTokens: 1)] + Array(repeating: .text(piece, logprobs: []), count: total)
            + [.finished(.stop, Usage(promptTokens: 1, completionTokens: total))]
        let service = ScriptedModelService { _ in .events(events) }
        try await withServer(service) { server in
            let client = try await TestHTTPClient.connect(port: server.port, autoRead: false)
            try await client.sendRequest("POST", "/v1/chat/completions", body: Self.streamBody)
            let generation = try await service.waitForGenerations(1)[0]
            try await waitUntil { generation.consumed > 10 }
            // Let the socket buffers fill; then consumption must stall far below the total.
            var last = -1
            while generation.consumed != last {
                last = generation.consumed
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(generation.consumed < total / 4, "consumed \(generation.consumed) of \(total)")
            await client.close()
            try await waitUntil { generation.cancelled }
        }
    }
}

@Suite struct APIServerTests {
    @Test func shutdownLetsAnInFlightStreamFinish() async throws {
        let service = ScriptedModelService { _ in .live }
        let server = try await APIServer.start(host: "127.0.0.1", port: 0, service: service, configuration: .forTests)
        let client = try await TestHTTPClient.connect(port: server.port)
        let idle = try await TestHTTPClient.connect(port: server.port)
        try await client.sendRequest("POST", "/v1/chat/completions",
                                     body: #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let generation = try await service.waitForGenerations(1)[0]
        generation.continuation.yield(.text("before", logprobs: []))
        _ = try await client.readUntil("before")

        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(10)) }
        #expect(await idle.waitForClose())  // idle connections close at once
        generation.continuation.yield(.text("after", logprobs: []))
        generation.continuation.yield(.finished(.stop, Usage(promptTokens: 1, completionTokens: 2)))
        generation.continuation.finish()
        let rest = try await client.readUntil("data: [DONE]\n\n")
        #expect(rest.contains("after"))
        await shutdown.value
        #expect(!generation.cancelled)
        await #expect(throws: (any Error).self) { _ = try await TestHTTPClient.connect(port: server.port) }
    }

    @Test func shutdownCancelsWhatOutlivesTheGracePeriod() async throws {
        let service = ScriptedModelService { _ in .live }
        let server = try await APIServer.start(host: "127.0.0.1", port: 0, service: service, configuration: .forTests)
        let client = try await TestHTTPClient.connect(port: server.port)
        try await client.sendRequest("POST", "/v1/chat/completions",
                                     body: #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let generation = try await service.waitForGenerations(1)[0]
        await server.shutdown(gracePeriod: .milliseconds(100))
        #expect(generation.cancelled)
        #expect(await client.waitForClose())
    }
}
