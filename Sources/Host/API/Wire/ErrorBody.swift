/// OpenAI's error envelope: `{"error":{"message","type","param","code"}}`, with `param` and `code` present as
/// null when they do not apply (clients read all four keys).
struct ErrorBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }

        private enum CodingKeys: String, CodingKey {
            case message, type, param, code
        }
    }

    var error: Detail
}
