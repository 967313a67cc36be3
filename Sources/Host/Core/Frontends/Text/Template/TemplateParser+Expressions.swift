/// Expressions, by jinja2's precedence, loosest first: conditional (`a if b else c`), `or`, `and`, `not`,
/// comparisons (`== != < <= > >= in`, `not in`), `+ -`, `~`, `* / // %`, `**`, unary `- +`, then postfix
/// (`.name`, `[...]`, calls) and filters/tests (`| f`, `is t`).
extension TemplateParser {
    mutating func parseExpression(withCondexpr: Bool) throws(TemplateError) -> TemplateExpression {
        try enter(current)
        defer { nesting -= 1 }
        return withCondexpr ? try parseConditional() : try parseOr()
    }

    /// Comma-separated expressions: one gives itself, several (or a trailing comma) give a tuple.
    mutating func parseTuple(withCondexpr: Bool, extraEnd: Set<String> = [], explicitParentheses: Bool = false)
        throws(TemplateError) -> TemplateExpression {
        let start = current
        var items: [TemplateExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(.op(","), "','") }
            if isTupleEnd(extraEnd) { break }
            items.append(try parseExpression(withCondexpr: withCondexpr))
            if current.kind == .op(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw error("expected an expression, got \(describe(current))", at: current) }
        }
        return TemplateExpression(kind: .list(items), location: location(start))
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(")"): return true
        case .name(let name): return extraEnd.contains(name)
        default: return false
        }
    }

    private mutating func parseConditional() throws(TemplateError) -> TemplateExpression {
        var value = try parseOr()
        while isName(current, "if") {
            advance()
            let condition = try parseOr()
            var otherwise: TemplateExpression?
            if isName(current, "else") {
                advance()
                otherwise = try parseConditional()
            }
            value = TemplateExpression(kind: .conditional(value: value, condition: condition, otherwise: otherwise),
                                       location: value.location)
        }
        return value
    }

    private mutating func parseOr() throws(TemplateError) -> TemplateExpression {
        var left = try parseAnd()
        while isName(current, "or") {
            advance()
            left = TemplateExpression(kind: .binary(.or, left, try parseAnd()), location: left.location)
        }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> TemplateExpression {
        var left = try parseNot()
        while isName(current, "and") {
            advance()
            left = TemplateExpression(kind: .binary(.and, left, try parseNot()), location: left.location)
        }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> TemplateExpression {
        guard isName(current, "not") else { return try parseCompare() }
        let token = current
        advance()
        try enter(token)
        defer { nesting -= 1 }
        return TemplateExpression(kind: .unary(.not, try parseNot()), location: location(token))
    }

    private mutating func parseCompare() throws(TemplateError) -> TemplateExpression {
        let first = try parseMath1()
        var operations: [(op: TemplateExpression.CompareOperator, operand: TemplateExpression)] = []
        while true {
            let op: TemplateExpression.CompareOperator
            switch current.kind {
            case .op("=="): op = .equal
            case .op("!="): op = .notEqual
            case .op("<"): op = .less
            case .op("<="): op = .lessOrEqual
            case .op(">"): op = .greater
            case .op(">="): op = .greaterOrEqual
            case .name("in"): op = .isIn
            case .name("not") where isName(next, "in"):
                advance()
                op = .notIn
            default:
                guard !operations.isEmpty else { return first }
                return TemplateExpression(kind: .compare(first, operations), location: first.location)
            }
            advance()
            operations.append((op, try parseMath1()))
        }
    }

    private mutating func parseMath1() throws(TemplateError) -> TemplateExpression {
        var left = try parseConcat()
        while true {
            let op: TemplateExpression.BinaryOperator
            switch current.kind {
            case .op("+"): op = .add
            case .op("-"): op = .subtract
            default: return left
            }
            advance()
            left = TemplateExpression(kind: .binary(op, left, try parseConcat()), location: left.location)
        }
    }

    private mutating func parseConcat() throws(TemplateError) -> TemplateExpression {
        var left = try parseMath2()
        while current.kind == .op("~") {
            advance()
            left = TemplateExpression(kind: .binary(.concat, left, try parseMath2()), location: left.location)
        }
        return left
    }

    private mutating func parseMath2() throws(TemplateError) -> TemplateExpression {
        var left = try parsePower()
        while true {
            let op: TemplateExpression.BinaryOperator
            switch current.kind {
            case .op("*"): op = .multiply
            case .op("/"): op = .divide
            case .op("//"): op = .floorDivide
            case .op("%"): op = .modulo
            default: return left
            }
            advance()
            left = TemplateExpression(kind: .binary(op, left, try parsePower()), location: left.location)
        }
    }

    /// `**` is left-associative in jinja2 (`2 ** 3 ** 2` is 64), unlike Python.
    private mutating func parsePower() throws(TemplateError) -> TemplateExpression {
        var left = try parseUnary(withFilter: true)
        while current.kind == .op("**") {
            advance()
            left = TemplateExpression(kind: .binary(.power, left, try parseUnary(withFilter: true)), location: left.location)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws(TemplateError) -> TemplateExpression {
        let token = current
        var node: TemplateExpression
        switch token.kind {
        case .op("-"), .op("+"):
            advance()
            try enter(token)
            let operand = try parseUnary(withFilter: false)
            nesting -= 1
            node = TemplateExpression(kind: .unary(token.kind == .op("-") ? .negate : .plus, operand), location: location(token))
        default:
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    private mutating func parsePrimary() throws(TemplateError) -> TemplateExpression {
        let token = current
        let here = location(token)
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return TemplateExpression(kind: .literal(.bool(true)), location: here)
            case "false", "False": return TemplateExpression(kind: .literal(.bool(false)), location: here)
            case "none", "None": return TemplateExpression(kind: .literal(.none), location: here)
            default: return TemplateExpression(kind: .name(name), location: here)
            }
        case .string(var text):
            advance()
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return TemplateExpression(kind: .literal(.string(text)), location: here)
        case .integer(let value):
            advance()
            return TemplateExpression(kind: .literal(.int(value)), location: here)
        case .float(let value):
            advance()
            return TemplateExpression(kind: .literal(.double(value)), location: here)
        case .op("("):
            advance()
            try enter(token)
            let inner = try parseTuple(withCondexpr: true, explicitParentheses: true)
            nesting -= 1
            try expect(.op(")"), "')'")
            return inner
        case .op("["):
            return try parseList()
        case .op("{"):
            return try parseDict()
        default:
            throw error("unexpected \(describe(token))", at: token)
        }
    }

    private mutating func parseList() throws(TemplateError) -> TemplateExpression {
        let token = current
        advance()
        try enter(token)
        defer { nesting -= 1 }
        var items: [TemplateExpression] = []
        while current.kind != .op("]") {
            if !items.isEmpty { try expect(.op(","), "','") }
            if current.kind == .op("]") { break }
            items.append(try parseExpression(withCondexpr: true))
        }
        advance()
        return TemplateExpression(kind: .list(items), location: location(token))
    }

    private mutating func parseDict() throws(TemplateError) -> TemplateExpression {
        let token = current
        advance()
        try enter(token)
        defer { nesting -= 1 }
        var pairs: [(key: TemplateExpression, value: TemplateExpression)] = []
        while current.kind != .op("}") {
            if !pairs.isEmpty { try expect(.op(","), "','") }
            if current.kind == .op("}") { break }
            let key = try parseExpression(withCondexpr: true)
            try expect(.op(":"), "':'")
            pairs.append((key, try parseExpression(withCondexpr: true)))
        }
        advance()
        return TemplateExpression(kind: .dict(pairs), location: location(token))
    }

    private mutating func parsePostfix(_ start: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var node = start
        while true {
            switch current.kind {
            case .op("."), .op("["): node = try parseSubscript(node)
            case .op("("): node = TemplateExpression(kind: .call(node, try parseCallArguments()), location: node.location)
            default: return node
            }
        }
    }

    private mutating func parseFilterExpression(_ start: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var node = start
        while true {
            switch current.kind {
            case .op("|"):
                let token = current
                advance()
                let name = try parseDottedName()
                let arguments = current.kind == .op("(") ? try parseCallArguments() : .none
                node = TemplateExpression(kind: .filter(node, name: name, arguments), location: location(token))
            case .name("is"):
                node = try parseTest(node)
            case .op("("):
                node = TemplateExpression(kind: .call(node, try parseCallArguments()), location: node.location)
            default:
                return node
            }
        }
    }

    /// `is [not] name`, `is name(args)` or `is name argument` (one primary without parentheses).
    private mutating func parseTest(_ subject: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        let token = current
        advance()
        let negated = isName(current, "not")
        if negated { advance() }
        let name = try parseDottedName()
        var arguments = TemplateArguments.none
        switch current.kind {
        case .op("("):
            arguments = try parseCallArguments()
        case .name("else"), .name("or"), .name("and"):
            break
        case .name("is"):
            throw error("you cannot chain multiple tests with is", at: current)
        case .name, .string, .integer, .float, .op("["), .op("{"):
            let argument = try parsePostfix(try parsePrimary())
            arguments = TemplateArguments(positional: [argument])
        default:
            break
        }
        let test = TemplateExpression(kind: .test(subject, name: name, arguments), location: location(token))
        return negated ? TemplateExpression(kind: .unary(.not, test), location: location(token)) : test
    }

    private mutating func parseSubscript(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        let token = current
        advance()
        if token.kind == .op(".") {
            let attribute = current
            switch attribute.kind {
            case .name(let name):
                advance()
                return TemplateExpression(kind: .attribute(base, name), location: base.location)
            case .integer(let value):
                advance()
                let key = TemplateExpression(kind: .literal(.int(value)), location: location(attribute))
                return TemplateExpression(kind: .item(base, key), location: base.location)
            default:
                throw error("expected name or number after '.'", at: attribute)
            }
        }
        try enter(token)
        defer { nesting -= 1 }
        var subscripts: [TemplateExpression] = []
        while current.kind != .op("]") {
            if !subscripts.isEmpty { try expect(.op(","), "','") }
            subscripts.append(try parseSubscribed(base))
        }
        advance()
        guard subscripts.count == 1, let only = subscripts.first else {
            return TemplateExpression(kind: .item(base, TemplateExpression(kind: .list(subscripts), location: location(token))),
                                      location: base.location)
        }
        if case .slice = only.kind { return only }
        return TemplateExpression(kind: .item(base, only), location: base.location)
    }

    /// One subscript: an expression, or a slice `start:stop:step` with any part left out.
    private mutating func parseSubscribed(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        let token = current
        var start: TemplateExpression?
        if current.kind != .op(":") {
            let expression = try parseExpression(withCondexpr: true)
            guard current.kind == .op(":") else { return expression }
            start = expression
        }
        advance()
        var stop: TemplateExpression?
        var step: TemplateExpression?
        if current.kind != .op(":"), current.kind != .op("]"), current.kind != .op(",") {
            stop = try parseExpression(withCondexpr: true)
        }
        if skipIf(.op(":")), current.kind != .op("]"), current.kind != .op(",") {
            step = try parseExpression(withCondexpr: true)
        }
        return TemplateExpression(kind: .slice(base, start: start, stop: stop, step: step), location: location(token))
    }

    /// `(positional..., name=value...)`; a trailing comma is allowed.
    mutating func parseCallArguments() throws(TemplateError) -> TemplateArguments {
        let token = current
        try expect(.op("("), "'('")
        try enter(token)
        defer { nesting -= 1 }
        var arguments = TemplateArguments()
        var first = true
        while current.kind != .op(")") {
            if !first { try expect(.op(","), "','") }
            first = false
            if current.kind == .op(")") { break }
            if current.kind == .op("*") || current.kind == .op("**") {
                throw TemplateError(.unsupported, "*args and **kwargs in calls are not supported", at: location(current))
            }
            if case .name(let name) = current.kind, next.kind == .op("=") {
                advance()
                advance()
                arguments.keyword.append((name, try parseExpression(withCondexpr: true)))
            } else {
                guard arguments.keyword.isEmpty else { throw error("positional argument after keyword argument", at: current) }
                arguments.positional.append(try parseExpression(withCondexpr: true))
            }
        }
        advance()
        return arguments
    }
}
