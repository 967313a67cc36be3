import FoundationEssentials
import NIOCore
import NIOHTTP1

/// What a route answers: a status, headers, and either a complete body or an event stream.
struct APIResponse: Sendable {
    enum Body: Sendable {
        case bytes(ByteBuffer)
        /// Server-sent events, written by the closure; the stream ends when it returns.
        case eventStream(@Sendable (SSEWriter) async -> Void)
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body

    init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body.
    static func json<Value: Encodable>(_ value: Value, status: HTTPResponseStatus = .ok) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return APIResponse(status: status, headers: headers, body: .bytes(ByteBuffer(bytes: WireJSON.encode(value))))
    }

    /// A plain-text body.
    static func text(_ text: String, contentType: String, status: HTTPResponseStatus = .ok) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        return APIResponse(status: status, headers: headers, body: .bytes(ByteBuffer(string: text)))
    }

    /// An event stream with the headers proxies and the SDK need.
    static func eventStream(_ produce: @escaping @Sendable (SSEWriter) async -> Void) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        return APIResponse(status: .ok, headers: headers, body: .eventStream(produce))
    }

    /// The OpenAI error envelope with its retry headers.
    static func error(_ error: APIError) -> APIResponse {
        var response = json(error.body, status: error.status)
        for (name, value) in error.headers { response.headers.add(name: name, value: value) }
        return response
    }
}

/// The one JSON encoder configuration of the wire.
enum WireJSON {
    static func encode<Value: Encodable>(_ value: Value) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            // Only non-finite floats fail, and the wire types clamp them; keep the envelope valid regardless.
            return Array(#"{"error":{"message":"response encoding failed","type":"server_error","param":null,"code":null}}"#.utf8)
        }
    }
}
