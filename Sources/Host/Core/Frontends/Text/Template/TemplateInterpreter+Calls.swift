/// Evaluated call arguments: positional, then keyword.
struct TemplateCallArguments {
    var positional: [TemplateValue] = []
    var keyword: [(name: String, value: TemplateValue)] = []

    /// The argument at `index`, or the keyword argument `name`.
    func value(_ index: Int, _ name: String) -> TemplateValue? {
        if index < positional.count { return positional[index] }
        return keyword.first { $0.name == name }?.value
    }

    /// Fails if more positional arguments were given than `count`, or a keyword not in `names`.
    func check(positional count: Int, keywords names: Set<String>, _ function: String,
               at location: TemplateLocation) throws(TemplateError) {
        guard positional.count <= count else {
            throw TemplateError(.type, "\(function)() takes at most \(count) positional argument(s), \(positional.count) given",
                                at: location)
        }
        if let unknown = keyword.first(where: { !names.contains($0.name) }) {
            throw TemplateError(.type, "\(function)() got an unexpected keyword argument '\(unknown.name)'", at: location)
        }
    }
}

/// Calls: macros (with `caller`, `varargs`, `kwargs`), bound methods and the built-in functions.
extension TemplateInterpreter {
    mutating func evaluateCall(_ expression: TemplateExpression, caller: TemplateValue?) throws(TemplateError) -> TemplateValue {
        guard case .call(let calleeExpression, let arguments) = expression.kind else {
            throw TemplateError(.syntax, "expected a call", at: expression.location)
        }
        let callee: TemplateValue
        if case .attribute(let baseExpression, let name) = calleeExpression.kind {
            let base = try defined(baseExpression)
            if TemplateMethods.has(name, on: base) {
                let values = try evaluate(arguments)
                return try callMethod(name, on: base, values, at: expression.location)
            }
            callee = try attribute(name, of: base, at: calleeExpression.location)
        } else {
            callee = try evaluate(calleeExpression)
        }
        guard !callee.isUndefined else { throw undefinedError(calleeExpression) }
        return try call(callee, try evaluate(arguments), caller: caller, at: expression.location)
    }

    mutating func evaluate(_ arguments: TemplateArguments) throws(TemplateError) -> TemplateCallArguments {
        var values = TemplateCallArguments()
        for argument in arguments.positional { values.positional.append(try evaluate(argument)) }
        for argument in arguments.keyword { values.keyword.append((argument.name, try evaluate(argument.value))) }
        return values
    }

    mutating func call(_ callee: TemplateValue, _ arguments: TemplateCallArguments, caller: TemplateValue?,
                       at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        guard case .handle(let handle) = callee else {
            throw TemplateError(.type, "'\(callee.typeName)' object is not callable", at: location)
        }
        switch handle.kind {
        case .macro(let id): return try callMacro(id, arguments, caller: caller, at: location)
        case .method(let id):
            let bound = boundMethods[id]
            return try callMethod(bound.name, on: bound.receiver, arguments, at: location)
        case .builtin(let builtin): return try callBuiltin(builtin, arguments, at: location)
        case .namespace, .loop: throw TemplateError(.type, "'\(handle.typeName)' object is not callable", at: location)
        }
    }

    /// A method of a value, not yet called (what `text.upper` without parentheses gives).
    mutating func boundMethod(_ name: String, of receiver: TemplateValue) -> TemplateValue {
        boundMethods.append((receiver, name))
        return .handle(TemplateHandle(kind: .method(boundMethods.count - 1)))
    }

    /// Runs a macro in a new scope on top of the scopes it was defined in; returns its text.
    private mutating func callMacro(_ id: Int, _ arguments: TemplateCallArguments, caller: TemplateValue?,
                                    at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let (macro, definitionScopes) = macros[id]
        guard callDepth < limits.maxCallDepth else {
            throw TemplateError(.limit, "macro calls nest deeper than \(limits.maxCallDepth) (runaway recursion?)", at: location)
        }
        try charge(1, at: location)
        let savedScopes = scopes
        scopes = [scopes[0]] + definitionScopes + [[macro.name: .handle(TemplateHandle(kind: .macro(id)))]]
        callDepth += 1
        defer {
            scopes = savedScopes
            callDepth -= 1
        }
        for argument in arguments.positional { try checkDepth(argument, at: location) }
        for argument in arguments.keyword { try checkDepth(argument.value, at: location) }
        let names = Set(macro.parameters.map(\.name))
        var extraKeywords = TemplateObject()
        for argument in arguments.keyword where !names.contains(argument.name) { extraKeywords[argument.name] = argument.value }
        for (index, parameter) in macro.parameters.enumerated() {
            var value = arguments.value(index, parameter.name)
            if value == nil, let defaultValue = parameter.defaultValue { value = try evaluate(defaultValue) }
            scopes[scopes.count - 1][parameter.name] = value ?? .undefined
        }
        scopes[scopes.count - 1]["varargs"] = .array(Array(arguments.positional.dropFirst(macro.parameters.count)))
        scopes[scopes.count - 1]["kwargs"] = .object(extraKeywords)
        if let caller { scopes[scopes.count - 1]["caller"] = caller }
        return .string(try capture(macro.body))
    }
}
