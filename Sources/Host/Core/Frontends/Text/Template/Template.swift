import Glibc

/// A parsed Jinja template that renders exactly as jinja2 does with transformers' chat-template environment
/// (`ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with loop controls, `tojson`,
/// `raise_exception` and `strftime_now`).
///
/// Parse once (when a model loads), render per request; rendering is bounded by `TemplateLimits`. Supported:
/// `if/elif/else`, `for` (with `else`, a filter condition, `loop.*`, `break`/`continue`), `set` (also
/// `ns.attr` and block form), `macro`/`call`, `filter` blocks, `raw`, whitespace control, and the expressions,
/// filters, tests and methods chat templates use. Not supported: `include`/`import`/`extends`, recursive loops,
/// `%`-formatting of strings.
public struct Template: Sendable {
    let nodes: [TemplateNode]

    /// Parses template source; fails with the line and column of the first syntax error, or of the first
    /// filter or test this interpreter does not implement.
    public init(_ source: String) throws(TemplateError) {
        nodes = try TemplateParser.parse(source)
        try TemplateCheck.check(nodes)
    }

    /// Renders with these variables (e.g. `messages`, `add_generation_prompt`, `bos_token`).
    public func render(_ context: [String: TemplateValue], limits: TemplateLimits = .standard,
                       clock: @escaping @Sendable () -> Int = { Int(time(nil)) }) throws(TemplateError) -> String {
        var interpreter = TemplateInterpreter(context: context, limits: limits, clock: clock)
        return try interpreter.render(nodes)
    }

    /// Whether the template iterates over a message's `content` (so it understands content given as a list of
    /// parts) — vLLM's "openai" content format; otherwise text parts should be joined into one string.
    public var iteratesOverContent: Bool { TemplateCheck.iteratesOverContent(nodes) }
}

/// Walks a parsed template: refuses unknown filters and tests up front, and answers questions about its shape.
enum TemplateCheck {
    static func check(_ nodes: [TemplateNode]) throws(TemplateError) {
        var failure: TemplateError?
        visit(nodes) { expression in
            guard failure == nil else { return }
            switch expression.kind {
            case .filter(_, let name, _) where !TemplateInterpreter.filterNames.contains(name):
                failure = TemplateError(.unsupported, "no filter named '\(name)'", at: expression.location)
            case .test(_, let name, _) where !TemplateInterpreter.testNames.contains(name):
                failure = TemplateError(.unsupported, "no test named '\(name)'", at: expression.location)
            default:
                break
            }
        } filters: { filter in
            if failure == nil, !TemplateInterpreter.filterNames.contains(filter.name) {
                failure = TemplateError(.unsupported, "no filter named '\(filter.name)'", at: filter.location)
            }
        }
        if let failure { throw failure }
    }

    static func iteratesOverContent(_ nodes: [TemplateNode]) -> Bool {
        var found = false
        visitNodes(nodes) { node in
            guard case .forLoop(let loop) = node.kind else { return }
            switch loop.iterable.kind {
            case .attribute(_, "content"): found = true
            case .item(_, let key): if case .literal(.string("content")) = key.kind { found = true }
            default: break
            }
        }
        return found
    }

    private static func visitNodes(_ nodes: [TemplateNode], _ body: (TemplateNode) -> Void) {
        for node in nodes {
            body(node)
            switch node.kind {
            case .ifBlock(let branches, let otherwise):
                for branch in branches { visitNodes(branch.body, body) }
                visitNodes(otherwise, body)
            case .forLoop(let loop):
                visitNodes(loop.body, body)
                visitNodes(loop.otherwise, body)
            case .setBlock(_, let inner, _), .filterBlock(_, let inner): visitNodes(inner, body)
            case .macro(let macro), .callBlock(_, let macro): visitNodes(macro.body, body)
            default: break
            }
        }
    }

    private static func visit(_ nodes: [TemplateNode], _ expressionBody: (TemplateExpression) -> Void,
                              filters filterBody: (TemplateFilterCall) -> Void) {
        visitNodes(nodes) { node in
            switch node.kind {
            case .output(let expression), .set(_, let expression): visit(expression, expressionBody)
            case .ifBlock(let branches, _): for branch in branches { visit(branch.condition, expressionBody) }
            case .forLoop(let loop):
                visit(loop.iterable, expressionBody)
                if let condition = loop.condition { visit(condition, expressionBody) }
            case .setBlock(_, _, let filters), .filterBlock(let filters, _): filters.forEach(filterBody)
            case .callBlock(let call, _): visit(call, expressionBody)
            case .macro(let macro): for parameter in macro.parameters { parameter.defaultValue.map { visit($0, expressionBody) } }
            default: break
            }
        }
    }

    private static func visit(_ expression: TemplateExpression, _ body: (TemplateExpression) -> Void) {
        body(expression)
        func arguments(_ given: TemplateArguments) {
            given.positional.forEach { visit($0, body) }
            given.keyword.forEach { visit($0.value, body) }
        }
        switch expression.kind {
        case .literal, .name: break
        case .list(let items): items.forEach { visit($0, body) }
        case .dict(let pairs): pairs.forEach { visit($0.key, body); visit($0.value, body) }
        case .attribute(let base, _): visit(base, body)
        case .item(let base, let key): visit(base, body); visit(key, body)
        case .slice(let base, let start, let stop, let step):
            visit(base, body)
            [start, stop, step].compactMap { $0 }.forEach { visit($0, body) }
        case .call(let callee, let given): visit(callee, body); arguments(given)
        case .filter(let input, _, let given), .test(let input, _, let given): visit(input, body); arguments(given)
        case .unary(_, let operand): visit(operand, body)
        case .binary(_, let left, let right): visit(left, body); visit(right, body)
        case .compare(let first, let operations): visit(first, body); operations.forEach { visit($0.operand, body) }
        case .conditional(let value, let condition, let otherwise):
            visit(value, body)
            visit(condition, body)
            otherwise.map { visit($0, body) }
        }
    }
}
