/// jinja2's built-in filters that chat templates use, with transformers' `tojson` (Python's `json.dumps` with
/// `ensure_ascii=False`, so non-ASCII text and `<`, `>`, `&`, `'` pass through unescaped).
extension TemplateInterpreter {
    /// Every filter name this interpreter knows, for checking a template when it is loaded.
    static let filterNames: Set<String> = [
        "trim", "upper", "lower", "capitalize", "title", "length", "count", "first", "last", "join", "default", "d",
        "items", "list", "string", "safe", "tojson", "selectattr", "rejectattr", "select", "reject", "map", "unique",
        "reverse", "sort", "replace", "int", "float", "abs", "round", "indent", "sum", "min", "max", "attr", "escape",
        "e", "wordcount",
    ]

    mutating func applyFilter(_ name: String, to value: TemplateValue, _ arguments: TemplateArguments,
                              at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        try filter(name, value, try evaluate(arguments), at: location)
    }

    mutating func filter(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments,
                         at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        try charge(1, at: location)
        switch name {
        case "trim":
            return .string(TextOps.strip(try text(value, at: location), arguments.value(0, "chars")?.stringValue))
        case "upper": return .string(try text(value, at: location).uppercased())
        case "lower": return .string(try text(value, at: location).lowercased())
        case "capitalize": return .string(TextOps.capitalize(try text(value, at: location)))
        case "title": return .string(Self.jinjaTitle(try text(value, at: location)))
        case "length", "count": return .int(try length(of: value, at: location))
        case "first":
            if case .none = value { throw TemplateError(.type, "'NoneType' object is not iterable", at: location) }
            return try iterate(value, at: location).first ?? .undefined
        case "last":
            return try iterate(value, at: location).last ?? .undefined
        case "join":
            let separator = try text(arguments.value(0, "d") ?? .string(""), at: location)
            let items = try iterate(value, at: location)
            let attribute = arguments.value(1, "attribute")
            var pieces: [String] = []
            for item in items { pieces.append(try text(try lookupPath(attribute, in: item, at: location), at: location)) }
            return .string(try join(pieces, separator, at: location))
        case "default", "d":
            let fallback = arguments.value(0, "default_value") ?? .string("")
            let boolean = arguments.value(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "items":
            switch value {
            case .undefined: return .array([])
            case .object(let object): return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            default: throw TemplateError(.type, "Can only get item pairs from a mapping.", at: location)
            }
        case "list": return .array(try iterate(value, at: location))
        case "string", "safe": return .string(try text(value, at: location))
        case "tojson": return try toJSON(value, arguments, at: location)
        case "selectattr", "rejectattr", "select", "reject":
            return try select(name, value, arguments, at: location)
        case "map": return try map(value, arguments, at: location)
        case "unique": return try unique(value, arguments, at: location)
        case "reverse":
            if case .string(let text) = value { return .string(TextOps.string(text.unicodeScalars.reversed())) }
            return .array(try iterate(value, at: location).reversed())
        case "sort": return try sort(value, arguments, at: location)
        case "replace":
            guard case .string(let old) = arguments.value(0, "old"), case .string(let new) = arguments.value(1, "new") else {
                throw TemplateError(.type, "replace takes two strings", at: location)
            }
            let count = arguments.value(2, "count")?.integer ?? -1
            return .string(try replace(try text(value, at: location), old, new, count: count, at: location))
        case "int", "float", "abs", "round": return try number(name, value, arguments, at: location)
        case "indent":
            let input = try text(value, at: location)
            let width: Int = if case .string(let given)? = arguments.value(0, "width") { given.utf8.count } else { 4 }
            let lines = input.utf8.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            try charge(size: input.utf8.count + (lines + 1) * max(width, arguments.value(0, "width")?.integer ?? 0), at: location)
            return .string(Self.indent(input, arguments))
        case "sum", "min", "max": return try aggregate(name, value, arguments, at: location)
        case "attr":
            guard case .string(let attribute) = arguments.value(0, "name") else {
                throw TemplateError(.type, "attr takes a name", at: location)
            }
            if case .object = value, !TemplateMethods.has(attribute, on: value) { return .undefined }
            return try self.attribute(attribute, of: value, at: location)
        case "escape", "e": return .string(Self.escapeHTML(try text(value, at: location)))
        case "wordcount":
            let isWordCharacter = { (scalar: Unicode.Scalar) in
                scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_"
            }
            return .int(try text(value, at: location).unicodeScalars.split { !isWordCharacter($0) }.count)
        default:
            throw TemplateError(.unsupported, "no filter named '\(name)'", at: location)
        }
    }

    /// `separator.join(pieces)`, refused before it is built if it would exceed the size limit.
    mutating func join(_ pieces: [String], _ separator: String, at location: TemplateLocation) throws(TemplateError) -> String {
        let size = pieces.reduce(separator.utf8.count * max(0, pieces.count - 1)) { $0 + $1.utf8.count }
        try charge(size: size, at: location)
        return pieces.joined(separator: separator)
    }

    /// `str.replace`, refused before it is built if it would exceed the size limit.
    mutating func replace(_ text: String, _ old: String, _ new: String, count: Int,
                          at location: TemplateLocation) throws(TemplateError) -> String {
        let hits = min(TextOps.count(old, in: text), count < 0 ? .max : count)
        let growth = max(0, new.utf8.count - old.utf8.count).multipliedReportingOverflow(by: hits)
        try charge(size: growth.overflow ? .max : text.utf8.count + growth.partialValue, at: location)
        return TextOps.replace(text, old, new, count: count)
    }

    /// Python's `len()`; undefined has length 0.
    func length(of value: TemplateValue, at location: TemplateLocation) throws(TemplateError) -> Int {
        switch value {
        case .string(let text): return text.unicodeScalars.count
        case .array(let items): return items.count
        case .object(let object): return object.count
        case .undefined: return 0
        default: throw TemplateError(.type, "object of type '\(value.typeName)' has no len()", at: location)
        }
    }

    /// `tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, as transformers defines it.
    private func toJSON(_ value: TemplateValue, _ arguments: TemplateCallArguments,
                        at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        try arguments.check(positional: 4, keywords: ["ensure_ascii", "indent", "separators", "sort_keys"], "tojson",
                            at: location)
        var indent: String?
        switch arguments.value(1, "indent") {
        case .int(let width)?: indent = String(repeating: " ", count: max(0, width))
        case .string(let text)?: indent = text
        case nil, .none?: indent = nil
        case let other?:
            throw TemplateError(.type, "tojson indent must be an int or a string, not \(other.typeName)", at: location)
        }
        var separators: (item: String, key: String)?
        if let given = arguments.value(2, "separators"), given != .none {
            guard case .array(let pair) = given, pair.count == 2, case .string(let item) = pair[0],
                  case .string(let key) = pair[1] else {
                throw TemplateError(.type, "tojson separators must be two strings", at: location)
            }
            separators = (item, key)
        }
        let style = TemplateJSON.Style(indent: indent, separators: separators,
                                       sortKeys: arguments.value(3, "sort_keys")?.isTruthy ?? false,
                                       ensureASCII: arguments.value(0, "ensure_ascii")?.isTruthy ?? false)
        do {
            return .string(try TemplateJSON.encode(value, style: style, maxBytes: limits.maxOutputBytes))
        } catch {
            throw TemplateError(error.exceededSize ? .limit : .type, error.message, at: location)
        }
    }

    /// `selectattr(attribute, test, args...)`, `rejectattr`, `select(test, args...)`, `reject`; without a test,
    /// truthiness decides.
    private mutating func select(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments,
                                 at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var rest = arguments.positional
        var attribute: TemplateValue?
        if byAttribute {
            guard !rest.isEmpty else { throw TemplateError(.type, "\(name) needs an attribute", at: location) }
            attribute = rest.removeFirst()
        }
        let testName: String? = rest.isEmpty ? nil : rest.removeFirst().stringValue
        let testArguments = TemplateCallArguments(positional: rest, keyword: arguments.keyword)
        var kept: [TemplateValue] = []
        for item in try iterate(value, at: location) {
            let subject = try lookupPath(attribute, in: item, at: location)
            let passes = try testName.map { (name) throws(TemplateError) in
                try self.test(name, subject, testArguments, at: location)
            } ?? subject.isTruthy
            if passes == keep { kept.append(item) }
        }
        return .array(kept)
    }

    /// `map('filter', args...)` or `map(attribute='name', default=value)`.
    private mutating func map(_ value: TemplateValue, _ arguments: TemplateCallArguments,
                              at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let items = try iterate(value, at: location)
        if let attribute = arguments.keyword.first(where: { $0.name == "attribute" })?.value {
            let fallback = arguments.keyword.first { $0.name == "default" }?.value
            return .array(try items.map { (item) throws(TemplateError) in
                let found = try lookupPath(attribute, in: item, at: location)
                return found.isUndefined ? (fallback ?? found) : found
            })
        }
        guard case .string(let filterName)? = arguments.positional.first else {
            throw TemplateError(.type, "map needs a filter name or attribute=", at: location)
        }
        let filterArguments = TemplateCallArguments(positional: Array(arguments.positional.dropFirst()),
                                                    keyword: arguments.keyword)
        var mapped: [TemplateValue] = []
        for item in items { mapped.append(try filter(filterName, item, filterArguments, at: location)) }
        return .array(mapped)
    }

    private mutating func unique(_ value: TemplateValue, _ arguments: TemplateCallArguments,
                                 at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let caseSensitive = arguments.value(0, "case_sensitive")?.isTruthy ?? false
        var seen: [TemplateValue] = []
        var kept: [TemplateValue] = []
        for item in try iterate(value, at: location) {
            let subject = try lookupPath(arguments.value(1, "attribute"), in: item, at: location)
            let key = caseSensitive ? subject : Self.foldCase(subject)
            if !seen.contains(key) {
                seen.append(key)
                kept.append(item)
            }
        }
        return .array(kept)
    }

    private mutating func sort(_ value: TemplateValue, _ arguments: TemplateCallArguments,
                               at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let reverse = arguments.value(0, "reverse")?.isTruthy ?? false
        let caseSensitive = arguments.value(1, "case_sensitive")?.isTruthy ?? false
        var keyed: [(key: TemplateValue, item: TemplateValue)] = []
        for item in try iterate(value, at: location) {
            let subject = try lookupPath(arguments.value(2, "attribute"), in: item, at: location)
            keyed.append((caseSensitive ? subject : Self.foldCase(subject), item))
        }
        for (a, b) in zip(keyed, keyed.dropFirst()) where Self.order(a.key, b.key) == nil {
            throw Self.unordered(a.key, b.key, at: location)
        }
        let sorted = keyed.enumerated().sorted { a, b in
            let order = Self.order(a.element.key, b.element.key) ?? 0
            return order == 0 ? a.offset < b.offset : (order < 0) != reverse
        }
        return .array(sorted.map(\.element.item))
    }

    private func number(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments,
                        at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch name {
        case "int":
            let fallback = arguments.value(0, "default") ?? .int(0)
            switch value {
            case .int, .bool: return .int(value.integer!)
            case .double(let number): return number.isFinite && abs(number) < 9.2e18 ? .int(Int(number)) : fallback
            case .string(let text):
                let trimmed = text.trimmingPythonSpace
                let base = arguments.value(1, "base")?.integer ?? 10
                if let integer = Int(trimmed.replacing("_", with: ""), radix: base) { return .int(integer) }
                if let number = Double(trimmed), number.isFinite, abs(number) < 9.2e18 { return .int(Int(number)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = arguments.value(0, "default") ?? .double(0)
            if let number = value.number { return .double(number) }
            if case .string(let text) = value, let number = Double(text.trimmingPythonSpace) { return .double(number) }
            return fallback
        case "abs":
            if let integer = value.integer { return integer == .min ? .double(-Double(integer)) : .int(abs(integer)) }
            if case .double(let number) = value { return .double(abs(number)) }
            throw TemplateError(.type, "bad operand type for abs(): '\(value.typeName)'", at: location)
        default:
            guard let number = value.number else { throw TemplateError(.type, "round needs a number", at: location) }
            let precision = arguments.value(0, "precision")?.integer ?? 0
            let method = arguments.value(1, "method")?.stringValue ?? "common"
            var scale = 1.0
            for _ in 0..<abs(precision) { scale *= 10 }
            let scaled = precision >= 0 ? number * scale : number / scale
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
            let rounded = scaled.rounded(rule)
            return .double(precision >= 0 ? rounded / scale : rounded * scale)
        }
    }

    private mutating func aggregate(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments,
                                    at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let items = try iterate(value, at: location)
        let path = arguments.value(name == "sum" ? 0 : 1, "attribute")
        var keys: [TemplateValue] = []
        for item in items { keys.append(try lookupPath(path, in: item, at: location)) }
        if name == "sum" {
            var total = arguments.value(1, "start") ?? .int(0)
            for key in keys { total = try arithmetic(.add, total, key, at: location) }
            return total
        }
        let caseSensitive = arguments.value(0, "case_sensitive")?.isTruthy ?? false
        var best: (key: TemplateValue, item: TemplateValue)?
        for (item, key) in zip(items, keys) {
            let key = caseSensitive ? key : Self.foldCase(key)
            guard let current = best else { best = (key, item); continue }
            guard let order = Self.order(key, current.key) else { throw Self.unordered(key, current.key, at: location) }
            if name == "min" ? order < 0 : order > 0 { best = (key, item) }
        }
        return best?.item ?? .undefined
    }

    /// jinja2's attribute path for selectattr/map/sort: dot-separated parts, digits as list indexes, each looked up
    /// as an item first; no path gives the value itself.
    mutating func lookupPath(_ path: TemplateValue?, in value: TemplateValue,
                             at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        guard let path else { return value }
        guard case .string(let text) = path else { return try item(path, of: value, at: location) }
        var current = value
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !current.isUndefined else { return .undefined }
            let key: TemplateValue = Int(part).map(TemplateValue.int) ?? .string(String(part))
            current = try item(key, of: current, at: location)
        }
        return current
    }

    private static func unordered(_ a: TemplateValue, _ b: TemplateValue, at location: TemplateLocation) -> TemplateError {
        TemplateError(.type, "'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", at: location)
    }

    private static func foldCase(_ value: TemplateValue) -> TemplateValue {
        if case .string(let text) = value { return .string(text.lowercased()) }
        return value
    }

    /// jinja2's `title` filter: each word (split at whitespace, `-`, and opening brackets) gets an uppercase first
    /// character and a lowercase rest.
    static func jinjaTitle(_ text: String) -> String {
        var out = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            let isBoundary = TemplateLexer.isSpace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if isBoundary {
                out.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                out += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
                atWordStart = false
            }
        }
        return out
    }

    /// jinja2's `indent(width=4, first=False, blank=False)`.
    static func indent(_ text: String, _ arguments: TemplateCallArguments) -> String {
        let indentation: String
        switch arguments.value(0, "width") {
        case .string(let given)?: indentation = given
        case let other?: indentation = String(repeating: " ", count: max(0, other.integer ?? 4))
        case nil: indentation = "    "
        }
        let first = arguments.value(1, "first")?.isTruthy ?? false
        let blank = arguments.value(2, "blank")?.isTruthy ?? false
        var lines = TextOps.splitLines(text + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    static func escapeHTML(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    /// The text without leading and trailing Python whitespace.
    var trimmingPythonSpace: String { TextOps.strip(self, nil) }
}
