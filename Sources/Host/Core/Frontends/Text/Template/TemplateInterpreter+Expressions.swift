import Glibc

/// Expression evaluation: names, literals, attribute and item access, calls, and the operators, with Python's
/// semantics (int/float promotion, floor division and modulo rounding toward negative infinity, `~` on `str()`).
extension TemplateInterpreter {
    mutating func evaluate(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        let here = expression.location
        switch expression.kind {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name)
        case .list(let items):
            var values: [TemplateValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item)) }
            return .array(values)
        case .dict(let pairs):
            var object = TemplateObject()
            for pair in pairs {
                guard case .string(let key) = try evaluate(pair.key) else {
                    throw TemplateError(.unsupported, "dict keys must be strings", at: pair.key.location)
                }
                object[key] = try evaluate(pair.value)
            }
            return .object(object)
        case .attribute(let base, let name):
            return try attribute(name, of: try defined(base), at: here)
        case .item(let base, let key):
            return try item(try evaluate(key), of: try defined(base), at: here)
        case .slice(let base, let start, let stop, let step):
            return try slice(try defined(base), start: try evaluate(optional: start), stop: try evaluate(optional: stop),
                             step: try evaluate(optional: step), at: here)
        case .call:
            return try evaluateCall(expression, caller: nil)
        case .filter(let input, let name, let arguments):
            return try applyFilter(name, to: try evaluate(input), arguments, at: here)
        case .test(let subject, let name, let arguments):
            return .bool(try applyTest(name, to: try evaluate(subject), arguments, at: here))
        case .unary(let op, let operand):
            return try unary(op, try evaluate(operand), operand, at: here)
        case .binary(let op, let left, let right):
            return try binary(op, left, right, at: here)
        case .compare(let first, let operations):
            var left = try evaluate(first)
            var leftExpression = first
            for operation in operations {
                let right = try evaluate(operation.operand)
                guard try compare(operation.op, left, right, leftExpression, operation.operand, at: here) else {
                    return .bool(false)
                }
                left = right
                leftExpression = operation.operand
            }
            return .bool(true)
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map { (expression) throws(TemplateError) in try evaluate(expression) } ?? .undefined
        }
    }

    private mutating func evaluate(optional expression: TemplateExpression?) throws(TemplateError) -> TemplateValue {
        guard let expression else { return .none }
        return try evaluate(expression)
    }

    /// Evaluates an expression whose value is about to be used as a container; undefined is an error, as in jinja2.
    mutating func defined(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        let value = try evaluate(expression)
        guard !value.isUndefined else { throw undefinedError(expression) }
        return value
    }

    /// jinja2's message for using an undefined value: "'name' is undefined" or "'dict object' has no attribute 'x'".
    func undefinedError(_ expression: TemplateExpression) -> TemplateError {
        let message: String
        switch expression.kind {
        case .name(let name):
            message = "'\(name)' is undefined"
        case .attribute(let base, let name):
            message = "'\(describe(base))' has no attribute '\(name)'"
        case .item(let base, let key):
            if case .literal(let value) = key.kind {
                message = "'\(describe(base))' has no attribute \(value.pythonRepr)"
            } else {
                message = "'\(describe(base))' has no such item"
            }
        default:
            message = "an undefined value was used"
        }
        return TemplateError(.undefined, message, at: expression.location)
    }

    private func describe(_ expression: TemplateExpression) -> String {
        switch expression.kind {
        case .name(let name): return name
        case .attribute(let base, let name): return describe(base) + "." + name
        case .item(let base, let key):
            if case .literal(let value) = key.kind { return describe(base) + "[" + value.pythonRepr + "]" }
            return describe(base) + "[...]"
        default: return "value"
        }
    }

    // MARK: Attribute, item and slice

    /// `value.name`: jinja2's `getattr` — the attribute (a method, a namespace or loop field) first, then the item.
    mutating func attribute(_ name: String, of value: TemplateValue,
                            at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch value {
        case .object(let object):
            if TemplateMethods.has(name, on: value) { return boundMethod(name, of: value) }
            return object[name] ?? .undefined
        case .handle(let handle):
            switch handle.kind {
            case .namespace(let id): return namespaces[id][name] ?? .undefined
            case .loop(let id): return loopAttribute(name, of: id)
            default: return .undefined
            }
        default:
            if TemplateMethods.has(name, on: value) { return boundMethod(name, of: value) }
            return .undefined
        }
    }

    /// `value[key]`: jinja2's `getitem` — the item first, then (for a string key) the attribute; missing is undefined.
    mutating func item(_ key: TemplateValue, of value: TemplateValue,
                       at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch (value, key) {
        case (.object(let object), .string(let name)):
            return object[name] ?? .undefined
        case (.array(let items), _):
            guard let index = key.integer else { break }
            let resolved = index < 0 ? items.count + index : index
            return items.indices.contains(resolved) ? items[resolved] : .undefined
        case (.string(let text), _):
            guard let index = key.integer else { break }
            let scalars = text.unicodeScalars
            let resolved = index < 0 ? scalars.count + index : index
            guard resolved >= 0, let position = scalars.index(scalars.startIndex, offsetBy: resolved, limitedBy: scalars.endIndex),
                  position < scalars.endIndex else { return .undefined }
            return .string(String(scalars[position]))
        default:
            break
        }
        if case .string(let name) = key { return try attribute(name, of: value, at: location) }
        return .undefined
    }

    /// `value[start:stop:step]` on a list or string, with Python's clamping and negative indexes.
    mutating func slice(_ value: TemplateValue, start: TemplateValue, stop: TemplateValue, step: TemplateValue,
                        at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        func bound(_ value: TemplateValue) throws(TemplateError) -> Int? {
            if case .none = value { return nil }
            guard let integer = value.integer else {
                throw TemplateError(.type, "slice indices must be integers or None", at: location)
            }
            return integer
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw TemplateError(.type, "slice step cannot be zero", at: location) }
        switch value {
        case .array(let items):
            let indices = Self.sliceIndices(count: items.count, start: try bound(start), stop: try bound(stop), step: stride)
            return .array(indices.map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            let indices = Self.sliceIndices(count: scalars.count, start: try bound(start), stop: try bound(stop), step: stride)
            return .string(String(String.UnicodeScalarView(indices.map { scalars[$0] })))
        default:
            return .undefined
        }
    }

    /// The indices Python's `slice(start, stop, step).indices(count)` walks.
    static func sliceIndices(count: Int, start: Int?, stop: Int?, step: Int) -> [Int] {
        func clamp(_ value: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
            guard var value else { return defaultValue }
            if value < 0 { value += count }
            return min(max(value, low), high)
        }
        var indices: [Int] = []
        if step > 0 {
            var index = clamp(start, 0, low: 0, high: count)
            let end = clamp(stop, count, low: 0, high: count)
            while index < end { indices.append(index); index += step }
        } else {
            var index = clamp(start, count - 1, low: -1, high: count - 1)
            let end = clamp(stop, -1, low: -1, high: count - 1)
            while index > end { indices.append(index); index += step }
        }
        return indices
    }

    private mutating func loopAttribute(_ name: String, of id: Int) -> TemplateValue {
        let loop = loops[id]
        let count = loop.items.count
        switch name {
        case "index": return .int(loop.index0 + 1)
        case "index0": return .int(loop.index0)
        case "revindex": return .int(count - loop.index0)
        case "revindex0": return .int(count - loop.index0 - 1)
        case "first": return .bool(loop.index0 == 0)
        case "last": return .bool(loop.index0 == count - 1)
        case "length": return .int(count)
        // Only recursive loops (not supported) go deeper; nested loops each have depth 1 in jinja2.
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return loop.index0 > 0 ? loop.items[loop.index0 - 1] : .undefined
        case "nextitem": return loop.index0 + 1 < count ? loop.items[loop.index0 + 1] : .undefined
        case "cycle": return boundMethod("cycle", of: .handle(TemplateHandle(kind: .loop(id))))
        default: return .undefined
        }
    }

    // MARK: Unary and binary operators

    private func unary(_ op: TemplateExpression.UnaryOperator, _ value: TemplateValue, _ operand: TemplateExpression,
                       at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch op {
        case .not: return .bool(!value.isTruthy)
        case .negate, .plus:
            if value.isUndefined { throw undefinedError(operand) }
            if let integer = value.integer {
                guard op == .negate else { return .int(integer) }
                guard integer != .min else { throw overflow(at: location) }
                return .int(-integer)
            }
            if case .double(let number) = value { return .double(op == .negate ? -number : number) }
            throw TemplateError(.type, "bad operand type for unary \(op.rawValue): '\(value.typeName)'", at: location)
        }
    }

    private mutating func binary(_ op: TemplateExpression.BinaryOperator, _ leftExpression: TemplateExpression,
                                 _ rightExpression: TemplateExpression, at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        let left = try evaluate(leftExpression)
        switch op {
        case .and: return left.isTruthy ? try evaluate(rightExpression) : left
        case .or: return left.isTruthy ? left : try evaluate(rightExpression)
        default: break
        }
        let right = try evaluate(rightExpression)
        if op == .concat {
            let (leftText, rightText) = (try text(left, at: location), try text(right, at: location))
            try charge(size: leftText.utf8.count + rightText.utf8.count, at: location)
            return .string(leftText + rightText)
        }
        if left.isUndefined { throw undefinedError(leftExpression) }
        if right.isUndefined { throw undefinedError(rightExpression) }
        return try arithmetic(op, left, right, at: location)
    }

    /// `left op right` for the arithmetic operators, on defined values.
    mutating func arithmetic(_ op: TemplateExpression.BinaryOperator, _ left: TemplateValue, _ right: TemplateValue,
                                     at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch (op, left, right) {
        case (.add, .string(let a), .string(let b)):
            try charge(size: a.utf8.count + b.utf8.count, at: location)
            return .string(a + b)
        case (.add, .array(let a), .array(let b)):
            try charge(size: a.count + b.count, at: location)
            return .array(a + b)
        case (.multiply, .string(let text), _), (.multiply, _, .string(let text)):
            guard let times = (left.stringValue == nil ? left : right).integer else { break }
            try charge(size: repeatedSize(text.utf8.count, times), at: location)
            return .string(String(repeating: text, count: max(0, times)))
        case (.multiply, .array(let items), _), (.multiply, _, .array(let items)):
            guard let times = (left.integer ?? right.integer) else { break }
            try charge(size: repeatedSize(items.count, times), at: location)
            return .array(Array([[TemplateValue]](repeating: items, count: max(0, times)).joined()))
        default:
            break
        }
        if let a = left.integer, let b = right.integer { return try integerArithmetic(op, a, b, at: location) }
        if let a = left.number, let b = right.number { return try floatArithmetic(op, a, b, at: location) }
        throw TemplateError(.type, "unsupported operand type(s) for \(op.rawValue): '\(left.typeName)' and '\(right.typeName)'",
                            at: location)
    }

    /// The size of `count` repeated `times` times, saturating instead of overflowing (the limit check refuses it).
    private func repeatedSize(_ count: Int, _ times: Int) -> Int {
        let (size, overflow) = count.multipliedReportingOverflow(by: max(0, times))
        return overflow ? .max : size
    }

    private func integerArithmetic(_ op: TemplateExpression.BinaryOperator, _ a: Int, _ b: Int,
                                   at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws(TemplateError) -> TemplateValue {
            guard !result.overflow else { throw overflow(at: location) }
            return .int(result.partialValue)
        }
        switch op {
        case .add: return try checked(a.addingReportingOverflow(b))
        case .subtract: return try checked(a.subtractingReportingOverflow(b))
        case .multiply: return try checked(a.multipliedReportingOverflow(by: b))
        case .divide: return try floatArithmetic(.divide, Double(a), Double(b), at: location)
        case .floorDivide, .modulo:
            guard b != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: location) }
            guard !(a == .min && b == -1) else { throw overflow(at: location) }
            var quotient = a / b
            var remainder = a % b
            if remainder != 0 && ((remainder < 0) != (b < 0)) {
                quotient -= 1
                remainder += b
            }
            return .int(op == .floorDivide ? quotient : remainder)
        case .power:
            guard b >= 0 else { return try floatArithmetic(.power, Double(a), Double(b), at: location) }
            var result = 1
            for _ in 0..<min(b, 64) {
                let (product, overflowed) = result.multipliedReportingOverflow(by: a)
                guard !overflowed else { throw overflow(at: location) }
                result = product
            }
            if b > 64, a != 0, a != 1, a != -1 { throw overflow(at: location) }
            if b > 64, a == -1 { result = b % 2 == 0 ? 1 : -1 }
            return .int(result)
        default:
            throw TemplateError(.type, "unsupported operator \(op.rawValue)", at: location)
        }
    }

    private func floatArithmetic(_ op: TemplateExpression.BinaryOperator, _ a: Double, _ b: Double,
                                 at location: TemplateLocation) throws(TemplateError) -> TemplateValue {
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw TemplateError(.type, "division by zero", at: location) }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw TemplateError(.type, "float floor division by zero", at: location) }
            return .double((a / b).rounded(.down))
        case .modulo:
            guard b != 0 else { throw TemplateError(.type, "float modulo", at: location) }
            var remainder = a.truncatingRemainder(dividingBy: b)
            if remainder != 0 && ((remainder < 0) != (b < 0)) { remainder += b }
            return .double(remainder)
        case .power:
            return .double(Self.power(a, b))
        default:
            throw TemplateError(.type, "unsupported operator \(op.rawValue)", at: location)
        }
    }

    private static func power(_ base: Double, _ exponent: Double) -> Double { Glibc.pow(base, exponent) }

    private func overflow(at location: TemplateLocation) -> TemplateError {
        TemplateError(.limit, "integer result does not fit in 64 bits", at: location)
    }

    // MARK: Comparisons

    private func compare(_ op: TemplateExpression.CompareOperator, _ left: TemplateValue, _ right: TemplateValue,
                         _ leftExpression: TemplateExpression, _ rightExpression: TemplateExpression,
                         at location: TemplateLocation) throws(TemplateError) -> Bool {
        switch op {
        case .equal: return left == right
        case .notEqual: return left != right
        case .isIn: return try contains(right, left, at: location)
        case .notIn: return try !contains(right, left, at: location)
        default:
            if left.isUndefined { throw undefinedError(leftExpression) }
            if right.isUndefined { throw undefinedError(rightExpression) }
            guard let order = Self.order(left, right) else {
                throw TemplateError(.type, "'\(op.rawValue)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'",
                                    at: location)
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// Python's ordering of two values (-1, 0, 1), or nil where Python raises TypeError.
    static func order(_ left: TemplateValue, _ right: TemplateValue) -> Int? {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            if a.unicodeScalars.elementsEqual(b.unicodeScalars) { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value } ? -1 : 1
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where x != y { return order(x, y) }
            return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
        default:
            if let a = left.integer, let b = right.integer { return a == b ? 0 : a < b ? -1 : 1 }
            guard let a = left.number, let b = right.number, !a.isNaN, !b.isNaN else { return nil }
            return a == b ? 0 : a < b ? -1 : 1
        }
    }

    /// Python's `needle in container`.
    func contains(_ container: TemplateValue, _ needle: TemplateValue,
                  at location: TemplateLocation) throws(TemplateError) -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let part) = needle else {
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(needle.typeName)", at: location)
            }
            return TextOps.contains(part, in: text)
        case .array(let items): return items.contains(needle)
        case .object(let object):
            guard case .string(let key) = needle else { return false }
            return object[key] != nil
        case .undefined: return false
        default:
            throw TemplateError(.type, "argument of type '\(container.typeName)' is not iterable", at: location)
        }
    }
}
