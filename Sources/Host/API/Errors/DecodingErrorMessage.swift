import FoundationEssentials

extension APIError {
    /// A 400 that says where and why a request body failed to decode: the line and column of a syntax error,
    /// or the field path and expected type.
    init(decoding error: any Error, body: [UInt8]) {
        if let syntax = JSONSyntaxLocator.firstError(in: body) {
            self = .invalid("The request body is not valid JSON: \(syntax).")
            return
        }
        self.init(decoding: error)
    }

    /// A 400 that says which field failed to decode and why.
    init(decoding error: any Error) {
        guard let error = error as? DecodingError else {
            self = .invalid("The request body is not valid JSON: \(error)")
            return
        }
        switch error {
        case .typeMismatch(let type, let context):
            let path = Self.path(context.codingPath)
            self = .invalid("Invalid type for '\(path)': expected \(Self.name(of: type)). \(context.debugDescription)",
                            param: path)
        case .valueNotFound(let type, let context):
            let path = Self.path(context.codingPath)
            self = .invalid("Invalid value for '\(path)': expected \(Self.name(of: type)), got null.", param: path)
        case .keyNotFound(let key, let context):
            let path = Self.path(context.codingPath + [key])
            self = .invalid("Missing required parameter: '\(path)'.", param: path)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError.map { "\($0)" }) ?? context.debugDescription
                self = .invalid("The request body is not valid JSON: \(detail)")
            } else {
                let path = Self.path(context.codingPath)
                self = .invalid("Invalid value for '\(path)': \(context.debugDescription)", param: path)
            }
        @unknown default:
            self = .invalid("The request body could not be decoded: \(error)")
        }
    }

    /// `messages[0].content` style, as OpenAI names params.
    private static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [String].Type: "an array of strings"
        default: "\(type)"
        }
    }
}
