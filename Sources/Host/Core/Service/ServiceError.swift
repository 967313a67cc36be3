/// Why the service refused or failed a request; the API maps `kind` to an HTTP status and OpenAI error type.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A bad parameter or a prompt the model cannot take (too long, no chat template): 400.
        case invalidRequest
        /// No such model: 404.
        case modelNotFound
        /// The model's queue is full or a budget is spent: 429 with retry-after.
        case overloaded
        /// The model is still loading: 503.
        case loading
        /// The model cannot do this (no backend for it yet): 400 with code "unsupported".
        case unsupported
        /// A plugin or device failed: 500.
        case internalError
        /// The request did not start before its deadline: 504.
        case deadlineExceeded
    }

    public var kind: Kind
    public var message: String
    /// The request field at fault, when one is.
    public var param: String?
    /// Seconds after which a retry may succeed (overloaded, loading).
    public var retryAfter: Int?
    /// Whether retrying the same request can succeed.
    public var retryable: Bool

    public init(_ kind: Kind, _ message: String, param: String? = nil, retryAfter: Int? = nil, retryable: Bool? = nil) {
        self.kind = kind
        self.message = message
        self.param = param
        self.retryAfter = retryAfter
        self.retryable = retryable ?? (kind == .overloaded || kind == .loading)
    }

    public var description: String { message }
}
