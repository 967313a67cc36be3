/// The Python methods chat templates call on values (`content.strip()`, `tool.items()`, `text.split('</think>')`),
/// with Python's semantics over Unicode scalars. Methods that mutate (list.append, dict.update, ...) are absent,
/// as transformers' ImmutableSandboxedEnvironment refuses them.
enum TemplateMethods {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "title", "capitalize", "replace", "find", "rfind", "count", "join", "isdigit", "isalpha", "isalnum", "isspace",
        "isupper", "islower",
    ]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get", "copy"]
    static let listMethods: Set<String> = ["index", "count", "copy"]

    /// Whether `value` has a method `name`.
    static func has(_ name: String, on value: TemplateValue) -> Bool {
        switch value {
        case .string: return stringMethods.contains(name)
        case .object: return dictMethods.contains(name)
        case .array: return listMethods.contains(name)
        case .handle(let handle):
            if case .loop = handle.kind { return name == "cycle" }
            return false
        default: return false
        }
    }
}

extension TemplateInterpreter {
    mutating func callMethod(_ name: String, on receiver: TemplateValue, _ arguments: TemplateCallArguments,
                             at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        try charge(1, at: location)
        switch receiver {
        case .string(let text): return try stringMethod(name, text, arguments, at: location)
        case .object(let object): return try dictMethod(name, object, arguments, at: location)
        case .array(let items): return try listMethod(name, items, arguments, at: location)
        case .handle(let handle):
            guard case .loop(let id) = handle.kind, name == "cycle", !arguments.positional.isEmpty else { break }
            let values = arguments.positional
            return values[loops[id].index0 % values.count]
        default: break
        }
        throw TemplateError(.type, "'\(receiver.typeName)' object has no method '\(name)'", at: location)
    }

    private mutating func stringMethod(_ name: String, _ text: String, _ arguments: TemplateCallArguments,
                                       at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        func string(_ index: Int, _ keyword: String) throws(TemplateError) -> String? {
            switch arguments.value(index, keyword) {
            case nil, .none?: return nil
            case .string(let value)?: return value
            case let other?: throw TemplateError(.type, "\(name)() argument must be str, not \(other.typeName)", at: location)
            }
        }
        func count(_ index: Int, _ keyword: String) throws(TemplateError) -> Int {
            guard let value = arguments.value(index, keyword) else { return -1 }
            guard let integer = value.integer else {
                throw TemplateError(.type, "'\(value.typeName)' object cannot be interpreted as an integer", at: location)
            }
            return integer
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            return .string(TextOps.strip(text, try string(0, "chars"), leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            var candidates: [String] = []
            switch arguments.value(0, name == "startswith" ? "prefix" : "suffix") {
            case .string(let value)?: candidates = [value]
            case .array(let items)?:
                for item in items {
                    guard case .string(let value) = item else {
                        throw TemplateError(.type, "\(name) tuple must hold strings", at: location)
                    }
                    candidates.append(value)
                }
            default: throw TemplateError(.type, "\(name)() takes a string or a tuple of strings", at: location)
            }
            let start = max(0, try count(1, "start"))
            let tail = start == 0 ? Substring(text) : Substring(text.unicodeScalars.dropFirst(start))
            return .bool(candidates.contains { name == "startswith" ? tail.utf8.starts(with: $0.utf8)
                                                                    : tail.utf8.reversed().starts(with: $0.utf8.reversed()) })
        case "split", "rsplit":
            let separator = try string(0, "sep")
            if separator?.isEmpty == true { throw TemplateError(.type, "empty separator", at: location) }
            let parts = TextOps.split(text, separator: separator, maxSplit: try count(1, "maxsplit"), fromRight: name == "rsplit")
            try charge(size: parts.count, at: location)
            return .array(parts.map(TemplateValue.string))
        case "splitlines":
            return .array(TextOps.splitLines(text).map(TemplateValue.string))
        case "upper": return .string(text.uppercased())
        case "lower": return .string(text.lowercased())
        case "title": return .string(TextOps.pythonTitle(text))
        case "capitalize": return .string(TextOps.capitalize(text))
        case "replace":
            guard let old = try string(0, "old"), let new = try string(1, "new") else {
                throw TemplateError(.type, "replace() takes two strings", at: location)
            }
            return .string(try replace(text, old, new, count: try count(2, "count"), at: location))
        case "find", "rfind", "count":
            guard let needle = try string(0, "sub") else { throw TemplateError(.type, "\(name)() takes a string", at: location) }
            if name == "count" { return .int(TextOps.count(needle, in: text)) }
            return .int(TextOps.find(needle, in: text, last: name == "rfind"))
        case "join":
            let items = try iterate(arguments.value(0, "iterable") ?? .array([]), at: location)
            var pieces: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let piece) = item else {
                    throw TemplateError(.type, "sequence item \(index): expected str instance, \(item.typeName) found", at: location)
                }
                pieces.append(piece)
            }
            return .string(try join(pieces, text, at: location))
        default:
            return .bool(try predicate(name, text.unicodeScalars, at: location))
        }
    }

    /// `isdigit()`, `isalpha()`, ... : true for a non-empty string whose every character qualifies.
    private func predicate(_ name: String, _ text: String.UnicodeScalarView,
                           at location: TemplateLocation) throws(TemplateError) -> Bool {
        switch name {
        case "isdigit": return !text.isEmpty && text.allSatisfy { [.decimal, .digit].contains($0.properties.numericType) }
        case "isalpha": return !text.isEmpty && text.allSatisfy { $0.properties.isAlphabetic }
        case "isalnum": return !text.isEmpty && text.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return !text.isEmpty && text.allSatisfy(TemplateLexer.isSpace)
        case "isupper": return text.contains { $0.properties.isCased } && !text.contains { $0.properties.isLowercase }
        case "islower": return text.contains { $0.properties.isCased } && !text.contains { $0.properties.isUppercase }
        default: throw TemplateError(.unsupported, "str.\(name)() is not supported", at: location)
        }
    }

    private func dictMethod(_ name: String, _ object: TemplateObject, _ arguments: TemplateCallArguments,
                            at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch name {
        case "items": return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
        case "keys": return .array(object.keys.map(TemplateValue.string))
        case "values": return .array(object.values)
        case "copy": return .object(object)
        case "get":
            guard let key = arguments.value(0, "key") else { throw TemplateError(.type, "get() takes a key", at: location) }
            let fallback = arguments.value(1, "default") ?? .none
            guard case .string(let name) = key else { return fallback }
            return object[name] ?? fallback
        default:
            throw TemplateError(.unsupported, "dict.\(name)() is not supported", at: location)
        }
    }

    private func listMethod(_ name: String, _ items: [TemplateValue], _ arguments: TemplateCallArguments,
                            at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch name {
        case "copy": return .array(items)
        case "count":
            guard let needle = arguments.value(0, "value") else {
                throw TemplateError(.type, "count() takes a value", at: location)
            }
            return .int(items.filter { $0 == needle }.count)
        case "index":
            guard let needle = arguments.value(0, "value") else {
                throw TemplateError(.type, "index() takes a value", at: location)
            }
            guard let index = items.firstIndex(of: needle) else {
                throw TemplateError(.type, "\(needle.pythonRepr) is not in list", at: location)
            }
            return .int(index)
        default:
            throw TemplateError(.unsupported, "list.\(name)() is not supported", at: location)
        }
    }
}

