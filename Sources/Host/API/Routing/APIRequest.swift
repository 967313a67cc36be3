import FoundationEssentials
import NIOCore
import NIOHTTP1

/// One HTTP request with its whole body, as routes see it.
struct APIRequest: Sendable {
    var method: HTTPMethod
    /// The path without the query, still percent-encoded.
    var path: String
    var query: String?
    var headers: HTTPHeaders
    var body: ByteBuffer

    init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = String(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = nil
        }
        self.headers = headers
        self.body = body
    }

    /// Decodes the body as JSON, converting failures into a 400 that says where.
    func decodeJSON<T: Decodable>(_ type: T.Type) throws(APIError) -> T {
        guard body.readableBytes > 0 else { throw APIError.invalid("The request body is empty; expected JSON.") }
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            throw APIError(decoding: error, body: Array(body.readableBytesView))
        }
    }
}
