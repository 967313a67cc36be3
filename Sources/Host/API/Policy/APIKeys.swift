import NIOHTTP1

/// The API keys the server accepts and the models each may use. With no keys, the API is open.
///
/// A key that may not use a model sees that model as absent: it is left out of `/v1/models` and asking for it
/// answers 404 `model_not_found`, the same as an unknown id, so keys cannot probe for other models.
public struct APIKeys: Sendable {
    /// Which models a key may use.
    public enum Scope: Sendable, Equatable {
        case allModels
        /// These model ids (or aliases).
        case models(Set<String>)
    }

    private var scopes: [String: Scope]
    /// Keys that may also call /admin routes (catalog reload).
    private var admins: Set<String>
    /// Each key's share of the device against the other keys (absent: 1).
    private var weights: [String: Double]

    /// Keys with their scopes; empty means no key is needed. `admins` (each also needs a scope) may reload;
    /// `weights` are the keys' fair-share weights (Specs/scheduler.md).
    public init(_ scopes: [String: Scope] = [:], admins: Set<String> = [], weights: [String: Double] = [:]) {
        self.scopes = scopes
        self.admins = admins
        self.weights = weights
    }

    /// The caller of an /admin route: it must name an admin key; with no admin key configured, admin routes are
    /// closed to everyone.
    func authorizeAdmin(_ headers: HTTPHeaders) throws(APIError) -> Caller {
        guard !admins.isEmpty else {
            throw APIError(.forbidden, "Admin routes are disabled: no admin key is configured (\"admin\": true on a catalog key).",
                           code: "admin_disabled")
        }
        let caller = try authorize(headers)
        guard let key = caller.key, admins.contains(key) else {
            throw APIError(.forbidden, "This key may not call admin routes.", code: "not_admin")
        }
        return caller
    }

    var isEmpty: Bool { scopes.isEmpty }

    /// The caller a request's `Authorization: Bearer KEY` names, or 401 when keys are configured and it is
    /// missing or unknown.
    func authorize(_ headers: HTTPHeaders) throws(APIError) -> Caller {
        guard !scopes.isEmpty else { return Caller(key: nil, scope: .allModels) }
        guard let header = headers.first(name: "Authorization") else {
            throw APIError(.unauthorized, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.",
                           code: "invalid_api_key")
        }
        let prefix = "bearer "
        guard header.lowercased().hasPrefix(prefix) else {
            throw APIError(.unauthorized, "The Authorization header must be 'Bearer KEY'.", code: "invalid_api_key")
        }
        let key = String(header.dropFirst(prefix.count)).trimmingSpaces
        guard let scope = scopes[key] else {
            throw APIError(.unauthorized, "Incorrect API key provided.", code: "invalid_api_key")
        }
        return Caller(key: key, scope: scope, weight: weights[key] ?? 1)
    }
}

/// Who is asking: the key (for metering and fair share) and what it may use.
struct Caller: Sendable {
    var key: String?
    var scope: APIKeys.Scope
    /// The key's fair-share weight.
    var weight = 1.0

    /// Whether this caller may use the model with this id or one of these aliases.
    func mayUse(id: String, aliases: [String]) -> Bool {
        switch scope {
        case .allModels: true
        case .models(let allowed): allowed.contains(id) || aliases.contains(where: allowed.contains)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " { view.removeFirst() }
        while view.last == " " { view.removeLast() }
        return String(view)
    }
}
