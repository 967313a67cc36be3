import FoundationEssentials
import HostAPI
import HostCore
import Testing

// Decodable mirrors of the openai-python types in strict mode: every field the SDK requires is non-optional
// here, so a response missing one (or with a wrong type) fails to decode.

struct UsageShape: Decodable, Equatable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
    /// Plexus's extension: device time attributed to the request (all choices).
    var device_seconds: Double
}

struct TopLogprobShape: Decodable {
    var token: String
    var logprob: Double
    var bytes: [Int]?
}

struct TokenLogprobShape: Decodable {
    var token: String
    var logprob: Double
    var bytes: [Int]?
    var top_logprobs: [TopLogprobShape]
}

struct ChatLogprobsShape: Decodable {
    var content: [TokenLogprobShape]?
}

struct ChatCompletionShape: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            var role: String
            var content: String?
            var tool_calls: [ToolCallShape]?
        }
        var index: Int
        var message: Message
        var logprobs: ChatLogprobsShape?
        var finish_reason: String
    }
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageShape?
}

/// openai-python's ChatCompletionMessageFunctionToolCall.
struct ToolCallShape: Decodable {
    struct Function: Decodable {
        var name: String
        var arguments: String
    }
    var id: String
    var type: String
    var function: Function
}

/// openai-python's ChoiceDeltaToolCall: only `index` is required.
struct DeltaToolCallShape: Decodable {
    struct Function: Decodable {
        var name: String?
        var arguments: String?
    }
    var index: Int
    var id: String?
    var type: String?
    var function: Function?
}

struct ChunkShape: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable {
            var role: String?
            var content: String?
            var tool_calls: [DeltaToolCallShape]?
        }
        var index: Int
        var delta: Delta
        var logprobs: ChatLogprobsShape?
        var finish_reason: String?
    }
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageShape?
}

struct CompletionShape: Decodable {
    struct Choice: Decodable {
        struct Logprobs: Decodable {
            var tokens: [String]?
            var token_logprobs: [Double]?
            var top_logprobs: [[String: Double]]?
            var text_offset: [Int]?
        }
        var index: Int
        var text: String
        var logprobs: Logprobs?
        var finish_reason: String?
    }
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageShape?
}

struct ModelShape: Decodable {
    var id: String
    var object: String
    var created: Int
    var owned_by: String
}

struct ModelListShape: Decodable {
    var object: String
    var data: [ModelShape]
}

struct ErrorShape: Decodable {
    struct Detail: Decodable {
        var message: String
        var type: String
        var param: String?
        var code: String?
    }
    var error: Detail
}

/// Starts a server on a free loopback port, runs `body`, then shuts the server down.
extension APIConfiguration {
    /// The defaults, but idle connections are kept 10 minutes: CI runs every suite at once on two cores, where a
    /// test has been seen waiting longer than the default 75 s between connecting and sending. The idle-close test
    /// sets its own timeout.
    static var forTests: APIConfiguration {
        var configuration = APIConfiguration()
        configuration.idleTimeout = .seconds(600)
        return configuration
    }
}

func withServer(_ service: ScriptedModelService, configuration: APIConfiguration = .forTests,
                _ body: (APIServer) async throws -> Void) async throws {
    let server = try await APIServer.start(host: "127.0.0.1", port: 0, service: service, configuration: configuration)
    do {
        try await body(server)
    } catch {
        await server.shutdown(gracePeriod: .zero)
        throw error
    }
    await server.shutdown(gracePeriod: .seconds(2))
}

/// One request on a fresh connection.
func fetch(_ server: APIServer, _ method: String, _ path: String, headers: [(String, String)] = [],
           body: String? = nil) async throws -> TestHTTPClient.Response {
    let client = try await TestHTTPClient.connect(port: server.port)
    defer { client.channel.close(promise: nil) }
    return try await client.request(method, path, headers: headers, body: body, keepAlive: false)
}

/// Checks the OpenAI error envelope (all four keys present) and returns it.
func expectError(_ response: TestHTTPClient.Response, status: Int, code: String? = nil, param: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> ErrorShape {
    #expect(response.status == status, "body: \(response.text)", sourceLocation: sourceLocation)
    let error = try response.json(ErrorShape.self)
    for key in ["\"message\"", "\"type\"", "\"param\"", "\"code\""] {
        #expect(response.text.contains(key), "missing \(key) in \(response.text)", sourceLocation: sourceLocation)
    }
    if let code { #expect(error.error.code == code, sourceLocation: sourceLocation) }
    if let param { #expect(error.error.param == param, sourceLocation: sourceLocation) }
    return error
}
