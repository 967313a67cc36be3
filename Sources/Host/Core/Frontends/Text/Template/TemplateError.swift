/// A failure to parse or render a template, with the place in the template source it refers to.
///
/// Lines and columns count from 1; columns count Unicode scalars, as an editor would.
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, so callers can tell a bad conversation from a bad template.
    public enum Kind: String, Sendable {
        /// The source is not valid template syntax.
        case syntax
        /// The template called `raise_exception(message)`; the message is the template author's.
        case raised
        /// An undefined value was used where a value is required (attribute of undefined, arithmetic, ...).
        case undefined
        /// An operation got a value of the wrong type.
        case type
        /// The template uses a Jinja feature this interpreter does not implement.
        case unsupported
        /// The template exceeded a render limit (iterations, output size, recursion).
        case limit
    }

    /// What went wrong.
    public let kind: Kind
    /// The message, without the location.
    public let message: String
    /// 1-based line of the template source.
    public let line: Int
    /// 1-based column of the template source.
    public let column: Int

    /// An error of `kind` at `location`.
    public init(_ kind: Kind, _ message: String, at location: TemplateLocation) {
        self.kind = kind
        self.message = message
        self.line = location.line
        self.column = location.column
    }

    public var description: String { "template \(kind.rawValue) error at line \(line), column \(column): \(message)" }
}

/// A position in template source.
public struct TemplateLocation: Equatable, Sendable {
    /// 1-based line.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int

    /// The place at `line` and `column` (both from 1).
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    static let start = TemplateLocation(line: 1, column: 1)
}
