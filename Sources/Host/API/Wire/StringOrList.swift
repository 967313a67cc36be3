import HostCore

/// A field that OpenAI accepts as one string or a list of strings (`stop`).
struct StringOrList: Decodable, Sendable, Equatable {
    var values: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            do {
                values = try container.decode([String].self)
            } catch {
                throw DecodingError.typeMismatch([String].self, .init(
                    codingPath: decoder.codingPath, debugDescription: "expected a string or an array of strings"))
            }
        }
    }
}
