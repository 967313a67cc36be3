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
                             at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        try charge(1, at: location)
        switch receiver {
        case .string(let text): return try stringMethod(name, Array(text.unicodeScalars), arguments, at: location)
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

    private mutating func stringMethod(_ name: String, _ text: [Unicode.Scalar], _ arguments: TemplateCallArguments,
                                       at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        func string(_ index: Int, _ keyword: String) throws(TemplateError) -> [Unicode.Scalar]? {
            switch arguments.value(index, keyword) {
            case nil, .none?: return nil
            case .string(let value)?: return Array(value.unicodeScalars)
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
            return .string(TextOps.string(TextOps.strip(text, try string(0, "chars"), leading: name != "rstrip",
                                                         trailing: name != "lstrip")))
        case "startswith", "endswith":
            var candidates: [[Unicode.Scalar]] = []
            switch arguments.value(0, name == "startswith" ? "prefix" : "suffix") {
            case .string(let value)?: candidates = [Array(value.unicodeScalars)]
            case .array(let items)?:
                for item in items {
                    guard case .string(let value) = item else { throw TemplateError(.type, "\(name) tuple must hold strings", at: location) }
                    candidates.append(Array(value.unicodeScalars))
                }
            default: throw TemplateError(.type, "\(name)() takes a string or a tuple of strings", at: location)
            }
            let start = max(0, min(text.count, try count(1, "start") < 0 ? 0 : try count(1, "start")))
            let tail = text[start...]
            return .bool(candidates.contains { name == "startswith" ? tail.starts(with: $0) : tail.reversed().starts(with: $0.reversed()) })
        case "split", "rsplit":
            let separator = try string(0, "sep")
            if separator?.isEmpty == true { throw TemplateError(.type, "empty separator", at: location) }
            let parts = TextOps.split(text, separator: separator, maxSplit: try count(1, "maxsplit"), fromRight: name == "rsplit")
            try charge(size: parts.count, at: location)
            return .array(parts.map { .string(TextOps.string($0)) })
        case "splitlines":
            return .array(TextOps.splitLines(text).map { .string(TextOps.string($0)) })
        case "upper": return .string(TextOps.string(text).uppercased())
        case "lower": return .string(TextOps.string(text).lowercased())
        case "title": return .string(TextOps.pythonTitle(text))
        case "capitalize": return .string(TextOps.capitalize(text))
        case "replace":
            guard let old = try string(0, "old"), let new = try string(1, "new") else {
                throw TemplateError(.type, "replace() takes two strings", at: location)
            }
            let result = TextOps.replace(text, old, new, count: try count(2, "count"))
            try charge(size: result.count, at: location)
            return .string(TextOps.string(result))
        case "find", "rfind", "count":
            guard let needle = try string(0, "sub") else { throw TemplateError(.type, "\(name)() takes a string", at: location) }
            if name == "count" { return .int(TextOps.occurrences(of: needle, in: text).count) }
            let found = TextOps.occurrences(of: needle, in: text, overlapping: true)
            return .int((name == "find" ? found.first : found.last) ?? -1)
        case "join":
            let items = try iterate(arguments.value(0, "iterable") ?? .array([]), at: location)
            var pieces: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let piece) = item else {
                    throw TemplateError(.type, "sequence item \(index): expected str instance, \(item.typeName) found", at: location)
                }
                pieces.append(piece)
            }
            let joined = pieces.joined(separator: TextOps.string(text))
            try charge(size: joined.utf8.count, at: location)
            return .string(joined)
        case "isdigit": return .bool(!text.isEmpty && text.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
        case "isalpha": return .bool(!text.isEmpty && text.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum": return .bool(!text.isEmpty && text.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!text.isEmpty && text.allSatisfy(TemplateLexer.isSpace))
        case "isupper": return .bool(text.contains { $0.properties.isCased } && !text.contains { $0.properties.isLowercase })
        case "islower": return .bool(text.contains { $0.properties.isCased } && !text.contains { $0.properties.isUppercase })
        default:
            throw TemplateError(.unsupported, "str.\(name)() is not supported", at: location)
        }
    }

    private func dictMethod(_ name: String, _ object: TemplateObject, _ arguments: TemplateCallArguments,
                            at location: SourceLocation) throws(TemplateError) -> TemplateValue {
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
                            at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        switch name {
        case "copy": return .array(items)
        case "count":
            guard let needle = arguments.value(0, "value") else { throw TemplateError(.type, "count() takes a value", at: location) }
            return .int(items.filter { $0 == needle }.count)
        case "index":
            guard let needle = arguments.value(0, "value") else { throw TemplateError(.type, "index() takes a value", at: location) }
            guard let index = items.firstIndex(of: needle) else {
                throw TemplateError(.type, "\(needle.pythonRepr) is not in list", at: location)
            }
            return .int(index)
        default:
            throw TemplateError(.unsupported, "list.\(name)() is not supported", at: location)
        }
    }
}

/// Python string operations over Unicode scalars.
enum TextOps {
    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.strip(chars)`: whitespace when `chars` is nil.
    static func strip(_ text: [Unicode.Scalar], _ chars: [Unicode.Scalar]?, leading: Bool, trailing: Bool) -> ArraySlice<Unicode.Scalar> {
        let remove: (Unicode.Scalar) -> Bool = chars.map { set in { set.contains($0) } } ?? TemplateLexer.isSpace
        var start = 0, end = text.count
        if leading { while start < end, remove(text[start]) { start += 1 } }
        if trailing { while end > start, remove(text[end - 1]) { end -= 1 } }
        return text[start..<end]
    }

    /// Start indices of `needle` in `text`, left to right (non-overlapping unless asked).
    static func occurrences(of needle: [Unicode.Scalar], in text: [Unicode.Scalar], overlapping: Bool = false) -> [Int] {
        guard !needle.isEmpty else { return Array(0...text.count) }
        var found: [Int] = []
        var index = 0
        while let hit = TemplateInterpreter.find(needle, in: text, from: index) {
            found.append(hit)
            index = hit + (overlapping ? 1 : needle.count)
        }
        return found
    }

    /// `str.split(sep, maxsplit)` / `str.rsplit(...)`; a nil separator splits on runs of whitespace.
    static func split(_ text: [Unicode.Scalar], separator: [Unicode.Scalar]?, maxSplit: Int, fromRight: Bool) -> [ArraySlice<Unicode.Scalar>] {
        guard let separator else { return splitOnSpace(text, maxSplit: maxSplit, fromRight: fromRight) }
        var hits = occurrences(of: separator, in: text)
        if maxSplit >= 0, hits.count > maxSplit {
            hits = fromRight ? rightmostNonOverlapping(separator, in: text, count: maxSplit) : Array(hits.prefix(maxSplit))
        }
        var parts: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for hit in hits {
            parts.append(text[start..<hit])
            start = hit + separator.count
        }
        parts.append(text[start...])
        return parts
    }

    private static func rightmostNonOverlapping(_ separator: [Unicode.Scalar], in text: [Unicode.Scalar], count: Int) -> [Int] {
        var hits: [Int] = []
        var end = text.count
        while hits.count < count, end >= separator.count {
            var index = end - separator.count
            var found: Int?
            while index >= 0 {
                if text[index..<(index + separator.count)].elementsEqual(separator) { found = index; break }
                index -= 1
            }
            guard let found else { break }
            hits.insert(found, at: 0)
            end = found
        }
        return hits
    }

    private static func splitOnSpace(_ text: [Unicode.Scalar], maxSplit: Int, fromRight: Bool) -> [ArraySlice<Unicode.Scalar>] {
        if fromRight {
            let reversed = Array(text.reversed())
            return splitOnSpace(reversed, maxSplit: maxSplit, fromRight: false).reversed().map { slice in
                let piece = Array(slice.reversed())
                return piece[...]
            }
        }
        var parts: [ArraySlice<Unicode.Scalar>] = []
        var index = 0
        while true {
            while index < text.count, TemplateLexer.isSpace(text[index]) { index += 1 }
            guard index < text.count else { return parts }
            if maxSplit >= 0, parts.count == maxSplit {
                parts.append(text[index...])
                return parts
            }
            let start = index
            while index < text.count, !TemplateLexer.isSpace(text[index]) { index += 1 }
            parts.append(text[start..<index])
        }
    }

    /// `str.splitlines()` without keepends.
    static func splitLines(_ text: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
        var lines: [ArraySlice<Unicode.Scalar>] = []
        var start = 0, index = 0
        while index < text.count {
            if breaks.contains(text[index].value) {
                lines.append(text[start..<index])
                if text[index] == "\r", index + 1 < text.count, text[index + 1] == "\n" { index += 1 }
                start = index + 1
            }
            index += 1
        }
        if start < text.count { lines.append(text[start...]) }
        return lines
    }

    /// `str.replace(old, new, count)`.
    static func replace(_ text: [Unicode.Scalar], _ old: [Unicode.Scalar], _ new: [Unicode.Scalar], count: Int) -> [Unicode.Scalar] {
        var hits = occurrences(of: old, in: text)
        if count >= 0 { hits = Array(hits.prefix(count)) }
        var result: [Unicode.Scalar] = []
        var start = 0
        for hit in hits {
            result += text[start..<hit]
            result += new
            start = hit + old.count
            if old.isEmpty, hit < text.count { result.append(text[hit]); start = hit + 1 }
        }
        if start <= text.count { result += text[start...] }
        return result
    }

    /// Python's `str.title()`: a cased character after an uncased one is titlecased, others lowercased.
    static func pythonTitle(_ text: [Unicode.Scalar]) -> String {
        var out = ""
        var previousCased = false
        for scalar in text {
            out += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = scalar.properties.isCased
        }
        return out
    }

    /// Python's `str.capitalize()`: the first character titlecased, the rest lowercased.
    static func capitalize(_ text: [Unicode.Scalar]) -> String {
        guard let first = text.first else { return "" }
        return first.properties.titlecaseMapping + string(text.dropFirst()).lowercased()
    }
}
