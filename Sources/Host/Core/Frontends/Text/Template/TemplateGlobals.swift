import Glibc

/// The global functions a chat template can call: jinja2's `range`, `dict`, `namespace`, and the two transformers
/// adds, `raise_exception(message)` and `strftime_now(format)`.
public enum TemplateBuiltin: String, Sendable, CaseIterable {
    case range
    case dict
    case namespace
    case raiseException = "raise_exception"
    case strftimeNow = "strftime_now"

    /// Every built-in under its template name.
    static let globals: [String: TemplateValue] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.rawValue, .handle(TemplateHandle(kind: .builtin($0)))) })
}

extension TemplateInterpreter {
    mutating func callBuiltin(_ builtin: TemplateBuiltin, _ arguments: TemplateCallArguments,
                              at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch builtin {
        case .range:
            return try range(arguments, at: location)
        case .dict:
            try arguments.check(positional: 1, keywords: Set(arguments.keyword.map(\.name)), "dict", at: location)
            var object = TemplateObject()
            if let first = arguments.positional.first {
                guard case .object(let initial) = first else {
                    throw TemplateError(.unsupported, "dict() takes a dict or keyword arguments here", at: location)
                }
                object = initial
            }
            for argument in arguments.keyword { object[argument.name] = argument.value }
            return .object(object)
        case .namespace:
            var object = TemplateObject()
            if let first = arguments.positional.first, case .object(let initial) = first { object = initial }
            for argument in arguments.keyword { object[argument.name] = argument.value }
            try checkDepth(.object(object), at: location)
            namespaces.append(object)
            return .handle(TemplateHandle(kind: .namespace(namespaces.count - 1)))
        case .raiseException:
            let message = try arguments.positional.first.map { (value) throws(TemplateError) in try text(value, at: location) }
            throw TemplateError(.raised, message ?? "raise_exception() called", at: location)
        case .strftimeNow:
            guard case .string(let format) = arguments.value(0, "format") else {
                throw TemplateError(.type, "strftime_now() takes a format string", at: location)
            }
            return .string(Self.strftime(format, unixTime: clock()))
        }
    }

    private mutating func range(_ arguments: TemplateCallArguments,
                                at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        var bounds: [Int] = []
        for value in arguments.positional {
            guard let integer = value.integer else {
                throw TemplateError(.type, "'\(value.typeName)' object cannot be interpreted as an integer", at: location)
            }
            bounds.append(integer)
        }
        guard (1...3).contains(bounds.count), arguments.keyword.isEmpty else {
            throw TemplateError(.type, "range expected 1 to 3 integer arguments", at: location)
        }
        let start = bounds.count == 1 ? 0 : bounds[0]
        let stop = bounds.count == 1 ? bounds[0] : bounds[1]
        let step = bounds.count == 3 ? bounds[2] : 1
        guard step != 0 else { throw TemplateError(.type, "range() arg 3 must not be zero", at: location) }
        let span = step > 0 ? stop - start : start - stop
        let count = span > 0 ? (span - 1) / abs(step) + 1 : 0
        guard count <= limits.maxRange else {
            throw TemplateError(.limit, "range() of \(count) items exceeds the limit of \(limits.maxRange)", at: location)
        }
        try charge(count, at: location)
        return .array((0..<count).map { .int(start + $0 * step) })
    }

    /// The local time `unixTime` formatted with C's strftime (what Python's `datetime.strftime` uses).
    static func strftime(_ format: String, unixTime: Int) -> String {
        var seconds = time_t(unixTime)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let count = Glibc.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
