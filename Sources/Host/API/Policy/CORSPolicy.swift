import NIOHTTP1

/// Cross-origin rules for browser clients: which origins may call, and the preflight answer.
public struct CORSPolicy: Sendable {
    /// Which origins may call the API from a browser.
    public enum Origins: Sendable, Equatable {
        /// Any origin (the request's Origin is reflected).
        case any
        /// Exactly these origins (e.g. "http://localhost:3000"); empty means no cross-origin access.
        case list([String])
    }

    var origins: Origins

    /// The origin to allow for a request, or nil when it sends none or is not allowed.
    func allowedOrigin(_ headers: HTTPHeaders) -> String? {
        guard let origin = headers.first(name: "Origin") else { return nil }
        switch origins {
        case .any: return origin
        case .list(let list): return list.contains(origin) ? origin : nil
        }
    }

    /// Adds the CORS headers an actual (non-preflight) response needs.
    func decorate(_ response: inout HTTPHeaders, request: HTTPHeaders) {
        guard origins != .list([]) else { return }
        response.add(name: "Vary", value: "Origin")
        guard let origin = allowedOrigin(request) else { return }
        response.add(name: "Access-Control-Allow-Origin", value: origin)
        response.add(name: "Access-Control-Expose-Headers", value: "Retry-After, x-should-retry")
    }

    /// The answer to an OPTIONS preflight: 204, reflecting the requested headers (the SDK sends x-stainless-*).
    func preflight(_ request: HTTPHeaders) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Vary", value: "Origin, Access-Control-Request-Headers")
        if let origin = allowedOrigin(request) {
            headers.add(name: "Access-Control-Allow-Origin", value: origin)
            headers.add(name: "Access-Control-Allow-Methods", value: "GET, POST, DELETE, OPTIONS")
            let requested = request.first(name: "Access-Control-Request-Headers")
            headers.add(name: "Access-Control-Allow-Headers", value: requested ?? "Authorization, Content-Type")
            headers.add(name: "Access-Control-Max-Age", value: "600")
        }
        headers.add(name: "Content-Length", value: "0")
        return APIResponse(status: .noContent, headers: headers, body: .bytes(.init()))
    }
}
