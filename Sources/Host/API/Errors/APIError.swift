import HostCore
import NIOHTTP1

/// An error as the API answers it: HTTP status, OpenAI error body, and the retry headers the SDK reads.
/// Every failure converts to this once, here; route code throws it and the connection writes it.
struct APIError: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    var type: String
    var message: String
    var param: String?
    var code: String?
    /// Seconds, sent as `Retry-After`.
    var retryAfter: Int?
    /// Whether the same request can succeed later; false sends `x-should-retry: false` so the SDK does not retry.
    var shouldRetry: Bool

    init(_ status: HTTPResponseStatus, type: String = "invalid_request_error", _ message: String,
         param: String? = nil, code: String? = nil, retryAfter: Int? = nil, shouldRetry: Bool? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
        self.shouldRetry = shouldRetry ?? APIError.retriedByDefault(status)
    }

    /// The OpenAI SDK retries 408, 409, 429 and 5xx; everything else is deterministic.
    static func retriedByDefault(_ status: HTTPResponseStatus) -> Bool {
        [408, 409, 429].contains(status.code) || status.code >= 500
    }

    /// The one conversion of a service error to the wire.
    init(_ error: ServiceError) {
        let retryable = error.retryable
        switch error.kind {
        case .invalidRequest:
            self.init(.badRequest, error.message, param: error.param, shouldRetry: retryable)
        case .modelNotFound:
            self.init(.notFound, error.message, param: error.param ?? "model", code: "model_not_found",
                      shouldRetry: retryable)
        case .overloaded:
            self.init(.tooManyRequests, type: "rate_limit_error", error.message, param: error.param,
                      code: "rate_limit_exceeded", retryAfter: error.retryAfter ?? 1, shouldRetry: retryable)
        case .loading:
            self.init(.serviceUnavailable, type: "service_unavailable", error.message, param: error.param,
                      code: "model_loading", retryAfter: error.retryAfter ?? 5, shouldRetry: retryable)
        case .unsupported:
            self.init(.badRequest, error.message, param: error.param, code: "unsupported", shouldRetry: retryable)
        case .internalError:
            self.init(.internalServerError, type: "server_error", error.message, param: error.param,
                      shouldRetry: retryable)
        case .deadlineExceeded:
            self.init(.gatewayTimeout, type: "timeout_error", error.message, param: error.param, code: "deadline_exceeded",
                      shouldRetry: retryable)
        }
    }

    /// The error as OpenAI's envelope.
    var body: ErrorBody {
        ErrorBody(error: .init(message: message, type: type, param: param, code: code))
    }

    /// The HTTP headers that go with this error.
    var headers: [(String, String)] {
        var headers: [(String, String)] = []
        if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        if !shouldRetry { headers.append(("x-should-retry", "false")) }
        return headers
    }
}

extension APIError {
    /// A 400 for a field with a wrong value.
    static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param)
    }

    /// A 404 for a model this caller cannot see (unknown, or not allowed for its key: the API does not tell which).
    static func modelNotFound(_ id: String) -> APIError {
        APIError(.notFound, "The model '\(id)' does not exist or you do not have access to it.", param: "model",
                 code: "model_not_found")
    }

    /// A 400 for something Plexus does not do (yet); the message names what is missing.
    static func unsupported(_ message: String, param: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param, code: "unsupported")
    }

    /// A 500 for a failure of Plexus itself.
    static func internalError(_ message: String) -> APIError {
        APIError(.internalServerError, type: "server_error", message)
    }

    /// A 413 for a body over the configured limit.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.payloadTooLarge, "Request body exceeds the limit of \(limit) bytes.", code: "request_too_large")
    }
}
