/// jinja2's tests (`value is name`): type checks, comparisons, `defined`/`undefined`, with jinja2's answers for
/// the odd cases (a string is iterable; undefined is iterable; a bool is a number but not an integer).
extension TemplateInterpreter {
    /// Every test name this interpreter knows, for checking a template when it is loaded.
    static let testNames: Set<String> = [
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "sameas", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le",
        "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "lower", "upper", "odd", "even", "divisibleby", "filter",
        "test", "escaped",
    ]

    mutating func applyTest(_ name: String, to value: TemplateValue, _ arguments: TemplateArguments,
                            at location: TemplateLocation) throws(TemplateError) -> Bool {
        try test(name, value, try evaluate(arguments), at: location)
    }

    func test(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments,
              at location: TemplateLocation) throws(TemplateError) -> Bool {
        let other = arguments.positional.first
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": return value == .bool(true) && value.isBool
        case "false": return value == .bool(false) && value.isBool
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.number != nil
        case "string": return value.stringValue != nil
        case "mapping": if case .object = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .string, .array, .object, .undefined: return true
            default: return false
            }
        case "callable":
            guard case .handle(let handle) = value else { return false }
            switch handle.kind {
            case .macro, .method, .builtin: return true
            case .namespace, .loop: return false
            }
        case "sameas":
            guard let other else { throw missingArgument(name, at: location) }
            return value.isBool == other.isBool && value == other && value.typeName == other.typeName
        case "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=":
            guard let other else { throw missingArgument(name, at: location) }
            return try compareTest(name, value, other, at: location)
        case "in":
            guard let other else { throw missingArgument(name, at: location) }
            return try contains(other, value, at: location)
        case "lower":
            let scalars = try text(value, at: location).unicodeScalars
            return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isUppercase }
        case "upper":
            let scalars = try text(value, at: location).unicodeScalars
            return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isLowercase }
        case "odd", "even", "divisibleby":
            guard let integer = value.integer else { throw TemplateError(.type, "'\(name)' needs an integer", at: location) }
            if name == "divisibleby" {
                guard let divisor = other?.integer, divisor != 0 else { throw missingArgument(name, at: location) }
                return integer % divisor == 0
            }
            return (integer % 2 != 0) == (name == "odd")
        case "filter": return value.stringValue.map(Self.filterNames.contains) ?? false
        case "test": return value.stringValue.map(Self.testNames.contains) ?? false
        case "escaped": return false
        default:
            throw TemplateError(.unsupported, "no test named '\(name)'", at: location)
        }
    }

    private func compareTest(_ name: String, _ value: TemplateValue, _ other: TemplateValue,
                             at location: TemplateLocation) throws(TemplateError) -> Bool {
        switch name {
        case "eq", "equalto", "==": return value == other
        case "ne", "!=": return value != other
        default:
            guard let order = Self.order(value, other) else {
                throw TemplateError(.type, "'\(name)' not supported between instances of '\(value.typeName)' and '\(other.typeName)'",
                                    at: location)
            }
            switch name {
            case "lt", "lessthan", "<": return order < 0
            case "le", "<=": return order <= 0
            case "gt", "greaterthan", ">": return order > 0
            default: return order >= 0
            }
        }
    }

    private func missingArgument(_ name: String, at location: TemplateLocation) -> TemplateError {
        TemplateError(.type, "test '\(name)' needs an argument", at: location)
    }
}

extension TemplateValue {
    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }
}
