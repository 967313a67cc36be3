import HostAPI
import HostCore
import Testing

@Suite struct ModelsRouteTests {
    @Test func listAndGetWithPercentEncodedIDs() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let list = try await fetch(server, "GET", "/v1/models")
            let models = try list.json(ModelListShape.self)
            #expect(models.object == "list")
            #expect(models.data.map(\.id) == ["org/chat-1"])
            #expect(models.data[0].object == "model" && models.data[0].owned_by == "plexus")
            #expect(models.data[0].created == 1_700_000_000)

            let one = try await fetch(server, "GET", "/v1/models/org%2Fchat-1")
            #expect(try one.json(ModelShape.self).id == "org/chat-1")
            let byAlias = try await fetch(server, "GET", "/v1/models/chat")
            #expect(try byAlias.json(ModelShape.self).id == "org/chat-1")
            _ = try expectError(try await fetch(server, "GET", "/v1/models/org%2Fmissing"), status: 404,
                                code: "model_not_found")
        }
    }

    @Test func healthFollowsLoadingAndMetricsCombineBothSides() async throws {
        let service = ScriptedModelService(models: [.chatModel(status: .loading)]) { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let loading = try await fetch(server, "GET", "/health")
            #expect(loading.status == 503)
            #expect(loading.text == #"{"status":"loading"}"#)
            service.setModels([.chatModel()])
            let ready = try await fetch(server, "GET", "/health")
            #expect(ready.status == 200)
            #expect(ready.text == #"{"status":"ok"}"#)

            let metrics = try await fetch(server, "GET", "/metrics")
            #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.hasPrefix("plexus_scripted_requests_total 7\n"))
            #expect(metrics.text.contains(#"plexus_http_requests_total{route="/health",status="503"} 1"#))
            #expect(metrics.text.contains(#"plexus_http_requests_total{route="/health",status="200"} 1"#))
            #expect(metrics.text.contains("# TYPE plexus_http_connections_open gauge\nplexus_http_connections_open "))
            #expect(metrics.text.contains("plexus_http_sse_streams_open 0"))
        }
    }
}

@Suite struct MissingBackendRouteTests {
    @Test func embeddingsImagesAndVideosNameWhatIsMissing() async throws {
        let service = ScriptedModelService { _ in .events(helloEvents()) }
        try await withServer(service) { server in
            let embeddings = try await fetch(server, "POST", "/v1/embeddings", body: #"{"model":"chat","input":"x"}"#)
            let error = try expectError(embeddings, status: 400, code: "unsupported")
            #expect(error.error.message == "model org/chat-1 serves chat and completion; no loaded backend "
                    + "generates embeddings (no embedding plugin is installed)")
            _ = try expectError(try await fetch(server, "POST", "/v1/embeddings", body: #"{"model":"x","input":"x"}"#),
                                status: 404, code: "model_not_found")
            let images = try await fetch(server, "POST", "/v1/images/generations", body: #"{"model":"chat","prompt":"a cat"}"#)
            #expect(try expectError(images, status: 400, code: "unsupported").error.message
                    == "model org/chat-1 serves chat and completion; it does not serve image generation")

            let boundary = "XyZ"
            let form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na cat\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nmissing-model\r\n--\(boundary)--\r\n"
            let video = try await fetch(server, "POST", "/v1/videos",
                                        headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: form)
            _ = try expectError(video, status: 404, code: "model_not_found")
            _ = try expectError(try await fetch(server, "GET", "/v1/videos/video_1"), status: 404, code: "video_not_found")
            _ = try expectError(try await fetch(server, "DELETE", "/v1/videos/video_1"), status: 404)
            _ = try expectError(try await fetch(server, "GET", "/v1/videos/video_1/content"), status: 404)
            _ = try expectError(try await fetch(server, "GET", "/v1/videos"), status: 400, code: "unsupported")
        }
    }
}
