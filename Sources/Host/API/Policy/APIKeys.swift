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

    /// Keys with their scopes; empty means no key is needed.
    public init(_ scopes: [String: Scope] = [:]) {
        self.scopes = scopes
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
        return Caller(key: key, scope: scope)
    }
}

/// Who is asking: the key (for metering and fair share) and what it may use.
struct Caller: Sendable {
    var key: String?
    var scope: APIKeys.Scope

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
