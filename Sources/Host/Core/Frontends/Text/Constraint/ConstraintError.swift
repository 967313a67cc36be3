/// Why a JSON Schema cannot become a grammar: malformed schema JSON, an unsupported keyword, or a bad reference.
/// The description names the keyword and the JSON Pointer path where it was found.
public struct ConstraintError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and where, e.g. `pattern is not supported (at #/properties/zip)`.
    public var description: String

    /// An error with the text `description`.
    public init(_ description: String) { self.description = description }

    /// An error about `keyword` at schema path `path`.
    static func unsupported(_ keyword: String, at path: String) -> ConstraintError {
        ConstraintError("\(keyword) is not supported (at \(path))")
    }

    /// A schema that is not what its keywords say it should be.
    static func invalid(_ message: String, at path: String) -> ConstraintError {
        ConstraintError("\(message) (at \(path))")
    }
}
