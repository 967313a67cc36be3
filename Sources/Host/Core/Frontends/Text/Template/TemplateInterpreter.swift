import Glibc

/// Runs a parsed template against a context and produces its text, with jinja2's semantics: Python values,
/// default `Undefined`, a fresh scope per loop iteration (assignments inside a loop do not leak out of it; use a
/// `namespace()` for that), macros with their own scope.
struct TemplateInterpreter {
    /// What a statement asks of the loop around it.
    enum Flow { case normal, breakLoop, continueLoop }

    /// The state of one `for` loop, behind a `loop` handle.
    struct LoopState {
        let items: [TemplateValue]
        var index0 = 0
    }

    let limits: TemplateLimits
    /// Unix time for `strftime_now` (injectable for tests).
    let clock: @Sendable () -> Int
    /// Innermost last; index 0 holds the globals, the render context and top-level assignments.
    var scopes: [[String: TemplateValue]]
    var namespaces: [TemplateObject] = []
    /// Macros with the scopes they were defined in (all but the root, which they see as it is when called).
    var macros: [(macro: TemplateMacro, scopes: ArraySlice<[String: TemplateValue]>)] = []
    var boundMethods: [(receiver: TemplateValue, name: String)] = []
    var loops: [LoopState] = []
    var callDepth = 0
    var output = ""
    var outputBytes = 0
    var work = 0

    init(context: [String: TemplateValue], limits: TemplateLimits, clock: @escaping @Sendable () -> Int) {
        self.limits = limits
        self.clock = clock
        var globals = TemplateBuiltin.globals
        for (name, value) in context { globals[name] = value }
        self.scopes = [globals]
    }

    /// Renders the nodes and returns the text.
    mutating func render(_ nodes: [TemplateNode]) throws(TemplateError) -> String {
        _ = try execute(nodes)
        return output
    }

    // MARK: Statements

    mutating func execute(_ nodes: [TemplateNode]) throws(TemplateError) -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func execute(_ node: TemplateNode) throws(TemplateError) -> Flow {
        switch node.kind {
        case .text(let text):
            try emit(text, at: node.location)
        case .output(let expression):
            try emit(try text(try evaluate(expression), at: node.location), at: node.location)
        case .ifBlock(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition).isTruthy {
                return try execute(branch.body)
            }
            return try execute(otherwise)
        case .forLoop(let loop):
            try run(loop, at: node.location)
        case .set(let target, let expression):
            try assign(try evaluate(expression), to: target, at: node.location)
        case .setBlock(let target, let body, let filters):
            var text = TemplateValue.string(try capture(body))
            for filter in filters { text = try applyFilter(filter.name, to: text, filter.arguments, at: filter.location) }
            try assign(text, to: target, at: node.location)
        case .macro(let macro):
            macros.append((macro, scopes.dropFirst()))
            scopes[scopes.count - 1][macro.name] = .handle(TemplateHandle(kind: .macro(macros.count - 1)))
        case .callBlock(let call, let caller):
            macros.append((caller, scopes.dropFirst()))
            let callerHandle = TemplateValue.handle(TemplateHandle(kind: .macro(macros.count - 1)))
            try emit(try text(try evaluateCall(call, caller: callerHandle), at: node.location), at: node.location)
        case .filterBlock(let filters, let body):
            var text = TemplateValue.string(try capture(body))
            for filter in filters { text = try applyFilter(filter.name, to: text, filter.arguments, at: filter.location) }
            try emit(try self.text(text, at: node.location), at: node.location)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private mutating func run(_ loop: TemplateForLoop, at location: TemplateLocation) throws(TemplateError) {
        var items = try iterate(try evaluate(loop.iterable), at: loop.iterable.location)
        if let condition = loop.condition {
            var kept: [TemplateValue] = []
            for item in items {
                scopes.append([:])
                try assign(item, to: loop.target, at: location)
                let keep = try evaluate(condition).isTruthy
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        guard !items.isEmpty else {
            _ = try execute(loop.otherwise)
            return
        }
        loops.append(LoopState(items: items))
        let handle = TemplateValue.handle(TemplateHandle(kind: .loop(loops.count - 1)))
        let loopIndex = loops.count - 1
        // One scope per iteration (assignments in the body do not outlive it), emptied rather than reallocated.
        scopes.append([:])
        defer { scopes.removeLast() }
        for (index, item) in items.enumerated() {
            try charge(1, at: location)
            loops[loopIndex].index0 = index
            scopes[scopes.count - 1].removeAll(keepingCapacity: true)
            scopes[scopes.count - 1]["loop"] = handle
            try assign(item, to: loop.target, at: location)
            if try execute(loop.body) == .breakLoop { break }
        }
    }

    /// Assigns in the innermost scope (unpacking for `a, b`), or to a namespace attribute.
    mutating func assign(_ value: TemplateValue, to target: TemplateAssignTarget,
                         at location: TemplateLocation) throws(TemplateError) {
        switch target {
        case .name(let name):
            scopes[scopes.count - 1][name] = value
        case .names(let names):
            let items = try iterate(value, at: location)
            guard items.count == names.count else {
                throw TemplateError(.type, items.count > names.count ? "too many values to unpack (expected \(names.count))"
                                    : "not enough values to unpack (expected \(names.count), got \(items.count))", at: location)
            }
            for (name, item) in zip(names, items) { scopes[scopes.count - 1][name] = item }
        case .attribute(let name, let attribute):
            guard case .handle(let handle) = lookup(name), case .namespace(let id) = handle.kind else {
                throw TemplateError(.type, "can only assign attributes of a namespace() object, and '\(name)' is not one",
                                    at: location)
            }
            try checkDepth(value, at: location)
            namespaces[id][attribute] = value
        }
    }

    /// Renders nodes into a separate buffer and returns that text (for set blocks, filter blocks and macros).
    mutating func capture(_ nodes: [TemplateNode]) throws(TemplateError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        _ = try execute(nodes)
        return output
    }

    // MARK: Names and limits

    func lookup(_ name: String) -> TemplateValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined
    }

    mutating func emit(_ text: String, at location: TemplateLocation) throws(TemplateError) {
        let bytes = text.utf8.count
        outputBytes += bytes
        guard outputBytes <= limits.maxOutputBytes else {
            throw TemplateError(.limit, "rendered output exceeds \(limits.maxOutputBytes) bytes", at: location)
        }
        try charge(bytes / 64, at: location)
        output += text
    }

    /// Counts work; fails once the render has done more than `maxWork`.
    mutating func charge(_ units: Int, at location: TemplateLocation) throws(TemplateError) {
        work += units
        guard work <= limits.maxWork else {
            throw TemplateError(.limit, "template did more than \(limits.maxWork) units of work (a runaway loop?)", at: location)
        }
    }

    /// Counts the size of a string or list an expression built, and refuses ones larger than the output limit.
    mutating func charge(size: Int, at location: TemplateLocation) throws(TemplateError) {
        guard size <= limits.maxOutputBytes else {
            throw TemplateError(.limit, "a value of \(size) items or bytes exceeds the limit of \(limits.maxOutputBytes)", at: location)
        }
        try charge(size / 16 + 1, at: location)
    }

    /// `str(value)`, refusing texts larger than the output limit (printing a list can multiply its size).
    func text(_ value: TemplateValue, at location: TemplateLocation) throws(TemplateError) -> String {
        guard let text = value.pythonString(limit: limits.maxOutputBytes) else {
            throw TemplateError(.limit, "a value prints to more than \(limits.maxOutputBytes) bytes", at: location)
        }
        return text
    }

    /// Refuses values nested deeper than `maxValueDepth` where values can accumulate (namespace attributes, macro
    /// arguments), so a loop cannot build a structure deep enough to overflow the stack when printed or freed.
    func checkDepth(_ value: TemplateValue, at location: TemplateLocation) throws(TemplateError) {
        guard value.nestingDepth(limit: limits.maxValueDepth) <= limits.maxValueDepth else {
            throw TemplateError(.limit, "a value nests lists or dicts deeper than \(limits.maxValueDepth) levels", at: location)
        }
    }

    /// The items a `for` loop (or unpacking, `list`, `join`, ...) sees: list items, dict keys, string characters;
    /// undefined gives none.
    func iterate(_ value: TemplateValue, at location: TemplateLocation) throws(TemplateError) -> [TemplateValue] {
        switch value {
        case .array(let items): return items
        case .object(let object): return object.keys.map(TemplateValue.string)
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw TemplateError(.type, "'\(value.typeName)' object is not iterable", at: location)
        }
    }
}
