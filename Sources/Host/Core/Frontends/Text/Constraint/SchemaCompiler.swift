/// Turns a JSON Schema (the subset OpenAI strict structured outputs accepts) into a `GrammarProgram`.
///
/// Every keyword is either compiled, ignored because it only annotates (`description`, `title`, `default`...),
/// ignored as documented (`minLength`, `maxLength`), or refused with the keyword and its path named: a refused
/// keyword would otherwise let through output the schema forbids.
struct SchemaCompiler {
    private var program = GrammarProgram.base()
    private let document: SchemaValue
    /// Nodes made for `$ref` targets, by pointer, so recursion through a reference reuses one node.
    private var references: [String: NodeID] = [:]
    /// Placeholders of references being compiled right now: a schema that is only an alias of one is a cycle.
    private var resolving: Set<NodeID> = []
    /// Unions collected while compiling; flattened at the end when every node is known.
    private var rawUnions: [[NodeID]] = []

    /// Keywords that only describe a schema.
    private static let annotations: Set<String> = [
        "description", "title", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "$defs", "definitions", "strict", "name",
    ]
    /// Keywords this compiler reads.
    private static let compiled: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "$ref",
        "minItems", "maxItems", "nullable", "minLength", "maxLength",
    ]

    /// The program for the schema `text`.
    static func compile(_ text: String) throws(ConstraintError) -> GrammarProgram {
        var compiler = SchemaCompiler(document: try SchemaParser.parse(text))
        let root = try compiler.node(compiler.document, path: "#")
        return try compiler.finish(root: root)
    }

    private init(document: SchemaValue) { self.document = document }

    private mutating func finish(root: NodeID) throws(ConstraintError) -> GrammarProgram {
        program.root = root
        program.unions = try rawUnions.indices.map { (union: Int) throws(ConstraintError) -> [NodeID] in
            var flat: [NodeID] = []
            var seen: Set<Int> = [union]
            try flatten(rawUnions[union], into: &flat, seen: &seen)
            guard !flat.isEmpty else { throw ConstraintError("anyOf has no alternative that is not itself") }
            return flat
        }
        return program
    }

    private func flatten(_ alternatives: [NodeID], into flat: inout [NodeID], seen: inout Set<Int>) throws(ConstraintError) {
        for alternative in alternatives {
            if case .anyOf(let inner) = program.nodes[Int(alternative)] {
                guard seen.insert(Int(inner)).inserted else { continue }  // anyOf: [self, x] adds nothing
                try flatten(rawUnions[Int(inner)], into: &flat, seen: &seen)
            } else if !flat.contains(alternative) {
                flat.append(alternative)
            }
        }
    }

    // MARK: - Schemas

    private mutating func node(_ schema: SchemaValue, path: String) throws(ConstraintError) -> NodeID {
        switch schema {
        case .bool(true): return GrammarProgram.anyValue
        case .bool(false): throw .invalid("a false schema allows nothing", at: path)
        case .object(let members):
            for member in members where !Self.annotations.contains(member.key) && !Self.compiled.contains(member.key)
                && !member.key.hasPrefix("x-") {
                throw .unsupported(member.key, at: path)
            }
            if schema["nullable"] == .bool(true) {
                let inner = try node(.object(members.filter { $0.key != "nullable" }), path: path)
                return union([inner, try literals([.null], path: path)])
            }
            return try objectSchema(schema, path: path)
        default: throw .invalid("a schema must be an object or a boolean", at: path)
        }
    }

    private mutating func objectSchema(_ schema: SchemaValue, path: String) throws(ConstraintError) -> NodeID {
        let constraints = ["type", "properties", "items", "enum", "const", "additionalProperties"]
        if let reference = schema["$ref"] {
            if let other = constraints.first(where: { schema[$0] != nil }) {
                throw .invalid("$ref alongside \(other) is not supported", at: path)
            }
            guard case .string(let pointer) = reference else { throw .invalid("$ref must be a string", at: path) }
            return try self.reference(pointer, path: path)
        }
        if let anyOf = schema["anyOf"] {
            if let other = constraints.first(where: { schema[$0] != nil }) {
                throw .invalid("anyOf alongside \(other) is not supported", at: path)
            }
            guard case .array(let items) = anyOf, !items.isEmpty else { throw .invalid("anyOf must be a non-empty array", at: path) }
            var alternatives: [NodeID] = []
            for (index, item) in items.enumerated() { alternatives.append(try node(item, path: "\(path)/anyOf/\(index)")) }
            return union(alternatives)
        }
        if let value = schema["const"] { return try literals([value], path: path + "/const") }
        if let values = schema["enum"] {
            guard case .array(let items) = values, !items.isEmpty else { throw .invalid("enum must be a non-empty array", at: path) }
            return try literals(items, path: path + "/enum")
        }
        switch schema["type"] {
        case nil:
            if schema["properties"] != nil || schema["additionalProperties"] != nil { return try typed("object", schema, path: path) }
            if schema["items"] != nil { return try typed("array", schema, path: path) }
            return GrammarProgram.anyValue
        case .string(let type)?:
            return try typed(type, schema, path: path)
        case .array(let types)?:
            var alternatives: [NodeID] = []
            for type in types {
                guard case .string(let name) = type else { throw .invalid("type must name types", at: path + "/type") }
                alternatives.append(try typed(name, schema, path: path))
            }
            guard !alternatives.isEmpty else { throw .invalid("type must not be empty", at: path + "/type") }
            return alternatives.count == 1 ? alternatives[0] : union(alternatives)
        default:
            throw .invalid("type must be a string or an array of strings", at: path + "/type")
        }
    }

    private mutating func typed(_ type: String, _ schema: SchemaValue, path: String) throws(ConstraintError) -> NodeID {
        switch type {
        case "object": return try object(schema, path: path)
        case "array": return try array(schema, path: path)
        case "string": return program.add(.string)  // minLength/maxLength are not enforced (see Specs/structured-output.md)
        case "number": return program.add(.number(integer: false))
        case "integer": return program.add(.number(integer: true))
        case "boolean": return try literals([.bool(true), .bool(false)], path: path)
        case "null": return try literals([.null], path: path)
        default: throw .invalid("unknown type '\(type)'", at: path + "/type")
        }
    }

    private mutating func object(_ schema: SchemaValue, path: String) throws(ConstraintError) -> NodeID {
        var keys: [[UInt8]] = [], values: [NodeID] = [], names: [String] = []
        if let properties = schema["properties"] {
            guard case .object(let members) = properties else { throw .invalid("properties must be an object", at: path) }
            for member in members {
                names.append(member.key)
                keys.append(Array(SchemaValue.quoted(member.key).utf8))
                values.append(try node(member.value, path: "\(path)/properties/\(member.key)"))
            }
        }
        var required = [Bool](repeating: false, count: names.count)
        if let list = schema["required"] {
            guard case .array(let items) = list else { throw .invalid("required must be an array", at: path) }
            for item in items {
                guard case .string(let name) = item, let index = names.firstIndex(of: name) else {
                    throw .invalid("required names \(item.jsonText), which is not in properties", at: path + "/required")
                }
                required[index] = true
            }
        }
        var additional: NodeID? = GrammarProgram.anyValue
        switch schema["additionalProperties"] {
        case nil, .bool(true)?: break
        case .bool(false)?: additional = nil
        case let value?: additional = try node(value, path: path + "/additionalProperties")
        }
        program.objects.append(ObjectShape(keys: keys, values: values, required: required, additional: additional))
        return program.add(.object(shape: UInt32(program.objects.count - 1)))
    }

    private mutating func array(_ schema: SchemaValue, path: String) throws(ConstraintError) -> NodeID {
        let items = try schema["items"].map { (value: SchemaValue) throws(ConstraintError) in try node(value, path: path + "/items") }
        let minimum = try count(schema["minItems"], "minItems", path: path) ?? 0
        let maximum = try count(schema["maxItems"], "maxItems", path: path) ?? .max
        guard minimum <= maximum else { throw .invalid("minItems is greater than maxItems", at: path) }
        return program.add(.array(items: items ?? GrammarProgram.anyValue, min: minimum, max: maximum))
    }

    private func count(_ value: SchemaValue?, _ keyword: String, path: String) throws(ConstraintError) -> UInt32? {
        guard let value else { return nil }
        guard case .number(let text) = value, let number = UInt32(text) else {
            throw .invalid("\(keyword) must be a non-negative integer", at: path + "/" + keyword)
        }
        return number
    }

    private mutating func literals(_ values: [SchemaValue], path: String) throws(ConstraintError) -> NodeID {
        program.literalSets.append(LiteralSet(values.map { Array($0.jsonText.utf8) }))
        return program.add(.literals(set: UInt32(program.literalSets.count - 1)))
    }

    private mutating func union(_ alternatives: [NodeID]) -> NodeID {
        rawUnions.append(alternatives)
        return program.add(.anyOf(union: UInt32(rawUnions.count - 1)))
    }

    // MARK: - References

    /// The node for a local JSON Pointer (`#`, `#/$defs/Name`, `#/definitions/Name`, any `#/...`).
    private mutating func reference(_ pointer: String, path: String) throws(ConstraintError) -> NodeID {
        if let existing = references[pointer] { return existing }
        guard pointer.hasPrefix("#") else { throw .invalid("only local references (#/...) are supported, not '\(pointer)'", at: path) }
        var target = document
        for token in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let name = token.replacingOccurrences("~1", with: "/").replacingOccurrences("~0", with: "~")
            switch target {
            case .object: target = target[name] ?? .null
            case .array(let items): target = Int(name).flatMap { items.indices.contains($0) ? items[$0] : nil } ?? .null
            default: target = .null
            }
            guard target != .null else { throw .invalid("$ref '\(pointer)' points at nothing", at: path) }
        }
        // Reserve the node first so a reference back to `pointer` while compiling it finds this id.
        let placeholder = program.add(.any)
        references[pointer] = placeholder
        resolving.insert(placeholder)
        let compiled = try node(target, path: pointer)
        resolving.remove(placeholder)
        guard !resolving.contains(compiled), compiled != placeholder else { throw .invalid("$ref '\(pointer)' refers to itself", at: path) }
        program.nodes[Int(placeholder)] = program.nodes[Int(compiled)]
        return placeholder
    }
}

extension Substring {
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        self[...].replacingOccurrences(target, with: replacement)
    }
}
