/// An expression of the template language, with where it starts in the source (for error messages).
struct TemplateExpression: Sendable {
    indirect enum Kind: Sendable {
        case literal(TemplateValue)
        case name(String)
        /// A list or tuple literal (tuples are lists here).
        case list([TemplateExpression])
        case dict([(key: TemplateExpression, value: TemplateExpression)])
        /// `base.name`: an attribute first, then an item, as jinja2's `getattr` does.
        case attribute(TemplateExpression, String)
        /// `base[index]`: an item first, then an attribute.
        case item(TemplateExpression, TemplateExpression)
        case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
        case call(TemplateExpression, TemplateArguments)
        case filter(TemplateExpression, name: String, TemplateArguments)
        case test(TemplateExpression, name: String, TemplateArguments)
        case unary(UnaryOperator, TemplateExpression)
        case binary(BinaryOperator, TemplateExpression, TemplateExpression)
        /// `a < b <= c`: each comparison against the previous operand, all must hold.
        case compare(TemplateExpression, [(op: CompareOperator, operand: TemplateExpression)])
        /// `value if condition else otherwise`; a missing else gives undefined.
        case conditional(value: TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
    }

    enum UnaryOperator: String, Sendable { case negate = "-", plus = "+", not = "not" }

    enum BinaryOperator: String, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
        case concat = "~", and = "and", or = "or"
    }

    enum CompareOperator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case isIn = "in", notIn = "not in"
    }

    let kind: Kind
    let location: TemplateLocation
}

/// The arguments of a call, filter or test: positional, then keyword.
struct TemplateArguments: Sendable {
    var positional: [TemplateExpression] = []
    var keyword: [(name: String, value: TemplateExpression)] = []

    static let none = TemplateArguments()
}

/// A statement of the template: text, an output, or a block tag with its body.
struct TemplateNode: Sendable {
    indirect enum Kind: Sendable {
        case text(String)
        /// `{{ expression }}`.
        case output(TemplateExpression)
        case ifBlock(branches: [(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode])
        case forLoop(TemplateForLoop)
        /// `{% set target = value %}`.
        case set(TemplateAssignTarget, TemplateExpression)
        /// `{% set target %}body{% endset %}`, with optional filters applied to the captured text.
        case setBlock(TemplateAssignTarget, body: [TemplateNode], filters: [TemplateFilterCall])
        case macro(TemplateMacro)
        /// `{% call(params) macro(args) %}body{% endcall %}`: calls the macro with `caller` bound to the body.
        case callBlock(TemplateExpression, caller: TemplateMacro)
        /// `{% filter name %}body{% endfilter %}`.
        case filterBlock(filters: [TemplateFilterCall], body: [TemplateNode])
        case breakLoop
        case continueLoop
    }

    let kind: Kind
    let location: TemplateLocation
}

/// What `{% set %}` and `{% for %}` assign to.
enum TemplateAssignTarget: Sendable {
    case name(String)
    /// Tuple unpacking: `a, b`.
    case names([String])
    /// `namespace_variable.attribute`.
    case attribute(String, String)
}

/// `{% for target in iterable if condition %}body{% else %}otherwise{% endfor %}`.
struct TemplateForLoop: Sendable {
    let target: TemplateAssignTarget
    let iterable: TemplateExpression
    let condition: TemplateExpression?
    let body: [TemplateNode]
    let otherwise: [TemplateNode]
}

/// A macro definition (also the body of a call block, as the `caller` macro).
struct TemplateMacro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: TemplateExpression?)]
    let body: [TemplateNode]
}

/// One filter of a filter chain, as `{% filter %}` and `{% set %}` blocks use them.
struct TemplateFilterCall: Sendable {
    let name: String
    let arguments: TemplateArguments
    let location: TemplateLocation
}
