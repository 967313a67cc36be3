import HostCore

/// One entry of `GET /v1/models`: OpenAI's Model (`id`, `object`, `created`, `owned_by`) plus Plexus's status
/// and context length (extra keys that OpenAI clients ignore).
struct ModelObject: Encodable, Sendable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy: String
    var status: String
    var contextLength: Int?
    var capabilities: [String]

    init(_ model: ServedModel) {
        id = model.id
        created = model.created
        ownedBy = model.ownedBy
        status = model.status.rawValue
        contextLength = model.contextLength > 0 ? model.contextLength : nil
        capabilities = model.capabilities.map(\.rawValue).sorted()
    }

    private enum CodingKeys: String, CodingKey {
        case id, object, created, status, capabilities
        case ownedBy = "owned_by"
        case contextLength = "context_length"
    }
}

/// The body of `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [ModelObject]
}
