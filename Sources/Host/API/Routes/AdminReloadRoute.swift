/// `POST /admin/reload`: re-reads the catalog and applies it (added models load, removed ones drain, in-flight
/// requests finish). Only admin keys reach it.
struct AdminReloadRoute {
    var reload: (@Sendable () async throws -> [String: [String]])?

    func respond() async throws(APIError) -> APIResponse {
        guard let reload else {
            throw APIError(.notFound, "This server was started without --catalog: there is nothing to reload.",
                           code: "no_catalog")
        }
        do {
            return .json(ReloadResult(status: "reloaded", changes: try await reload()))
        } catch {
            throw APIError(.badRequest, "The catalog was not reloaded: \(error)", code: "invalid_catalog")
        }
    }
}

/// The body of a successful reload.
struct ReloadResult: Encodable, Sendable {
    var status: String
    var changes: [String: [String]]
}
