/// Builds the statement tree of a template from its tokens, following jinja2's parser: the same statements,
/// the same end tags, the same precedence.
///
/// Nesting is capped (`maxNesting`) so a hostile template cannot exhaust the stack of the thread parsing it.
struct TemplateParser {
    /// Deepest nesting of blocks, brackets and sub-expressions a template may have.
    static let maxNesting = 48

    var tokens: [TemplateToken]
    var index = 0
    let lineMap: LineMap
    var nesting = 0
    var loopDepth = 0

    init(tokens: [TemplateToken], lineMap: LineMap) {
        self.tokens = tokens
        self.lineMap = lineMap
    }

    /// Parses a whole template.
    static func parse(_ source: String) throws(TemplateError) -> [TemplateNode] {
        var lexer = TemplateLexer(source)
        let tokens = try lexer.tokenize()
        var parser = TemplateParser(tokens: tokens, lineMap: lexer.lineMap)
        let body = try parser.subparse(endTags: [])
        guard case .end = parser.current.kind else { throw parser.unexpected() }
        return body
    }

    // MARK: Statements

    /// Nodes until the end of the template or a block tag named in `endTags`; on such a tag, stops with the tag
    /// name as the current token (its `{%` consumed).
    mutating func subparse(endTags: Set<String>) throws(TemplateError) -> [TemplateNode] {
        var body: [TemplateNode] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                advance()
                body.append(TemplateNode(kind: .text(text), location: location(token)))
            case .variableBegin:
                advance()
                let expression = try parseTuple(withCondexpr: true)
                try expect(.variableEnd, "'}}'")
                body.append(TemplateNode(kind: .output(expression), location: location(token)))
            case .blockBegin:
                advance()
                if case .name(let name) = current.kind, endTags.contains(name) { return body }
                body.append(try parseStatement())
                try expect(.blockEnd, "'%}'")
            case .end:
                guard endTags.isEmpty else {
                    throw error("unexpected end of template; looking for the tags \(quoted(endTags))", at: token)
                }
                return body
            default:
                throw unexpected()
            }
        }
    }

    /// The statement after `{%`.
    private mutating func parseStatement() throws(TemplateError) -> TemplateNode {
        let token = current
        guard case .name(let tag) = token.kind else { throw error("tag name expected", at: token) }
        try enter(token)
        defer { nesting -= 1 }
        advance()
        let here = location(token)
        switch tag {
        case "if": return try parseIf(at: here)
        case "for": return try parseFor(at: here)
        case "set": return try parseSet(at: here)
        case "macro": return try parseMacro(at: here)
        case "call": return try parseCallBlock(at: here)
        case "filter": return try parseFilterBlock(at: here)
        case "break", "continue":
            guard loopDepth > 0 else { throw error("'\(tag)' outside of a loop", at: token) }
            return TemplateNode(kind: tag == "break" ? .breakLoop : .continueLoop, location: here)
        case "generation":
            // transformers' AssistantTracker tag: marks assistant text; renders its body unchanged (a filter
            // block with no filters).
            let body = try parseStatements(endTags: ["endgeneration"], dropNeedle: true)
            return TemplateNode(kind: .filterBlock(filters: [], body: body), location: here)
        case "include", "import", "from", "extends", "block", "with", "do", "autoescape", "trans":
            throw TemplateError(.unsupported, "the '\(tag)' tag is not supported in chat templates", at: here)
        default:
            throw error("encountered unknown tag '\(tag)'", at: token)
        }
    }

    /// Ends a statement header (`%}`) and parses the body up to one of `endTags`.
    private mutating func parseStatements(endTags: Set<String>,
                                          dropNeedle: Bool = false) throws(TemplateError) -> [TemplateNode] {
        skipIf(.op(":"))
        try expect(.blockEnd, "'%}'")
        let body = try subparse(endTags: endTags)
        if case .end = current.kind {
            throw error("unexpected end of template; looking for the tags \(quoted(endTags))", at: current)
        }
        if dropNeedle { advance() }
        return body
    }

    private mutating func parseIf(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
        var condition = try parseTuple(withCondexpr: false)
        while true {
            let body = try parseStatements(endTags: ["elif", "else", "endif"])
            branches.append((condition, body))
            let tag = nameValue(current)
            advance()
            switch tag {
            case "elif":
                condition = try parseTuple(withCondexpr: false)
            case "else":
                let otherwise = try parseStatements(endTags: ["endif"], dropNeedle: true)
                return TemplateNode(kind: .ifBlock(branches: branches, otherwise: otherwise), location: here)
            default:
                return TemplateNode(kind: .ifBlock(branches: branches, otherwise: []), location: here)
            }
        }
    }

    private mutating func parseFor(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        let target = try parseAssignTarget(allowAttribute: false)
        try expectName("in")
        let iterable = try parseTuple(withCondexpr: false, extraEnd: ["recursive"])
        var condition: TemplateExpression?
        if isName(current, "if") {
            advance()
            condition = try parseExpression(withCondexpr: true)
        }
        if isName(current, "recursive") {
            throw TemplateError(.unsupported, "recursive loops are not supported", at: location(current))
        }
        loopDepth += 1
        let body = try parseStatements(endTags: ["endfor", "else"])
        loopDepth -= 1
        var otherwise: [TemplateNode] = []
        if nameValue(current) == "else" {
            advance()
            otherwise = try parseStatements(endTags: ["endfor"], dropNeedle: true)
        } else {
            advance()
        }
        let loop = TemplateForLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
        return TemplateNode(kind: .forLoop(loop), location: here)
    }

    private mutating func parseSet(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        let target = try parseAssignTarget(allowAttribute: true)
        if skipIf(.op("=")) {
            let value = try parseTuple(withCondexpr: true)
            return TemplateNode(kind: .set(target, value), location: here)
        }
        let filters = try parseFilterChain(requireFirst: false)
        let body = try parseStatements(endTags: ["endset"], dropNeedle: true)
        return TemplateNode(kind: .setBlock(target, body: body, filters: filters), location: here)
    }

    private mutating func parseMacro(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        let name = try expectIdentifier()
        let parameters = try parseSignature()
        let body = try withoutLoops { (parser: inout TemplateParser) throws(TemplateError) in
            try parser.parseStatements(endTags: ["endmacro"], dropNeedle: true)
        }
        return TemplateNode(kind: .macro(TemplateMacro(name: name, parameters: parameters, body: body)), location: here)
    }

    private mutating func parseCallBlock(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        let parameters = current.kind == .op("(") ? try parseSignature() : []
        let call = try parseExpression(withCondexpr: true)
        guard case .call = call.kind else { throw TemplateError(.syntax, "expected a call after 'call'", at: call.location) }
        let body = try withoutLoops { (parser: inout TemplateParser) throws(TemplateError) in
            try parser.parseStatements(endTags: ["endcall"], dropNeedle: true)
        }
        let caller = TemplateMacro(name: "caller", parameters: parameters, body: body)
        return TemplateNode(kind: .callBlock(call, caller: caller), location: here)
    }

    private mutating func parseFilterBlock(at here: TemplateLocation) throws(TemplateError) -> TemplateNode {
        let filters = try parseFilterChain(requireFirst: true)
        let body = try parseStatements(endTags: ["endfilter"], dropNeedle: true)
        return TemplateNode(kind: .filterBlock(filters: filters, body: body), location: here)
    }

    /// `name(args) | name2 ...` after `{% filter` (no leading pipe) or `{% set x |` (leading pipe).
    private mutating func parseFilterChain(requireFirst: Bool) throws(TemplateError) -> [TemplateFilterCall] {
        var filters: [TemplateFilterCall] = []
        var expectPipe = !requireFirst
        while true {
            if expectPipe {
                guard skipIf(.op("|")) else { return filters }
            }
            let token = current
            let name = try parseDottedName()
            let arguments = current.kind == .op("(") ? try parseCallArguments() : .none
            filters.append(TemplateFilterCall(name: name, arguments: arguments, location: location(token)))
            expectPipe = true
        }
    }

    /// `(a, b=default, ...)` of a macro or call block.
    private mutating func parseSignature() throws(TemplateError) -> [(name: String, defaultValue: TemplateExpression?)] {
        try expect(.op("("), "'('")
        var parameters: [(name: String, defaultValue: TemplateExpression?)] = []
        while current.kind != .op(")") {
            if !parameters.isEmpty { try expect(.op(","), "','") }
            if current.kind == .op(")") { break }
            let name = try expectIdentifier()
            var defaultValue: TemplateExpression?
            if skipIf(.op("=")) { defaultValue = try parseExpression(withCondexpr: true) }
            parameters.append((name, defaultValue))
        }
        advance()
        return parameters
    }

    /// The target of `set` / `for`: a name, names separated by commas, or (for `set`) `namespace.attribute`.
    private mutating func parseAssignTarget(allowAttribute: Bool) throws(TemplateError) -> TemplateAssignTarget {
        let first = try expectIdentifier()
        if allowAttribute, skipIf(.op(".")) {
            return .attribute(first, try expectIdentifier())
        }
        guard current.kind == .op(",") else { return .name(first) }
        var names = [first]
        while skipIf(.op(",")) {
            guard case .name = current.kind, !isName(current, "in") else { break }
            names.append(try expectIdentifier())
        }
        return .names(names)
    }

    /// Runs `body` with break/continue not allowed (a macro body is its own frame, as in jinja2).
    private mutating func withoutLoops<T>(_ body: (inout TemplateParser) throws(TemplateError) -> T) throws(TemplateError) -> T {
        let saved = loopDepth
        loopDepth = 0
        defer { loopDepth = saved }
        return try body(&self)
    }

    // MARK: Token helpers

    var current: TemplateToken { tokens[index] }

    var next: TemplateToken { tokens[min(index + 1, tokens.count - 1)] }

    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    @discardableResult
    mutating func skipIf(_ kind: TemplateToken.Kind) -> Bool {
        guard current.kind == kind else { return false }
        advance()
        return true
    }

    mutating func expect(_ kind: TemplateToken.Kind, _ what: String) throws(TemplateError) {
        guard current.kind == kind else { throw error("expected \(what), got \(describe(current))", at: current) }
        advance()
    }

    mutating func expectName(_ name: String) throws(TemplateError) {
        guard isName(current, name) else { throw error("expected '\(name)', got \(describe(current))", at: current) }
        advance()
    }

    mutating func expectIdentifier() throws(TemplateError) -> String {
        guard case .name(let name) = current.kind else { throw error("expected a name, got \(describe(current))", at: current) }
        advance()
        return name
    }

    /// `name` or `name.name...` (filter and test names may be dotted in jinja2).
    mutating func parseDottedName() throws(TemplateError) -> String {
        var name = try expectIdentifier()
        while current.kind == .op("."), case .name = next.kind {
            advance()
            name += "." + (try expectIdentifier())
        }
        return name
    }

    func isName(_ token: TemplateToken, _ name: String) -> Bool { token.kind == .name(name) }

    func nameValue(_ token: TemplateToken) -> String? {
        if case .name(let name) = token.kind { return name }
        return nil
    }

    /// Counts one level of nesting; fails past `maxNesting`.
    mutating func enter(_ token: TemplateToken) throws(TemplateError) {
        nesting += 1
        guard nesting <= Self.maxNesting else {
            throw TemplateError(.limit, "template nests deeper than \(Self.maxNesting) levels", at: location(token))
        }
    }

    func location(_ token: TemplateToken) -> TemplateLocation { lineMap.location(of: token.offset) }

    func error(_ message: String, at token: TemplateToken) -> TemplateError {
        TemplateError(.syntax, message, at: location(token))
    }

    func unexpected() -> TemplateError { error("unexpected \(describe(current))", at: current) }

    func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let name): return "'\(name)'"
        case .string: return "string literal"
        case .integer(let value): return "'\(value)'"
        case .float(let value): return "'\(value)'"
        case .op(let op): return "'\(op)'"
        case .end: return "end of template"
        }
    }

    private func quoted(_ tags: Set<String>) -> String { tags.sorted().map { "'\($0)'" }.joined(separator: ", ") }
}
