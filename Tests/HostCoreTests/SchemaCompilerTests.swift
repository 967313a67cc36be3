import Testing
@testable import HostCore

/// What the schema compiler accepts, and the errors it gives for what it refuses.
@Suite struct SchemaCompilerTests {
    static func error(_ schema: String) -> String? {
        do {
            _ = try SchemaCompiler.compile(schema)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [
        (#"{"type":"string","pattern":"^a+$"}"#, "pattern is not supported (at #)"),
        (#"{"type":"object","properties":{"d":{"type":"string","format":"date"}}}"#, "format is not supported (at #/properties/d)"),
        (#"{"type":"object","properties":{"x":{"oneOf":[{"type":"string"}]}}}"#, "oneOf is not supported (at #/properties/x)"),
        (#"{"type":"array","items":{"type":"number","minimum":0}}"#, "minimum is not supported (at #/items)"),
        (#"{"allOf":[{"type":"string"}]}"#, "allOf is not supported (at #)"),
        (#"{"type":"object","patternProperties":{}}"#, "patternProperties is not supported (at #)"),
        (#"{"type":"array","uniqueItems":true}"#, "uniqueItems is not supported (at #)"),
        (##"{"$ref":"#/$defs/missing"}"##, "$ref '#/$defs/missing' points at nothing (at #)"),
        (##"{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}"##, "$ref '#/$defs/a' refers to itself (at #)"),
        (#"{"$ref":"https://example.com/s.json"}"#, "only local references (#/...) are supported, not 'https://example.com/s.json' (at #)"),
        (#"{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}"#, #"required names "b", which is not in properties (at #/required)"#),
        (#"{"type":"strnig"}"#, "unknown type 'strnig' (at #/type)"),
        (#"{"type":"array","minItems":3,"maxItems":2}"#, "minItems is greater than maxItems (at #)"),
        (#"{"type":"array","minItems":-1}"#, "minItems must be a non-negative integer (at #/minItems)"),
        (#"{"type":"object",}"#, "schema is not valid JSON: expected a member name at byte 17"),
        (#"{"anyOf":[{"type":"string"}],"type":"object"}"#, "anyOf alongside type is not supported (at #)"),
    ])
    func refusals(schema: String, message: String) {
        #expect(Self.error(schema) == message)
    }

    @Test func acceptedSchemas() throws {
        let schemas = [
            #"{"type":"object","properties":{"a":{"type":"string","description":"x","minLength":1,"maxLength":4}},"required":["a"],"additionalProperties":false}"#,
            #"{"type":["object","null"],"properties":{"a":{"type":"integer"}}}"#,
            ##"{"anyOf":[{"type":"string"},{"$ref":"#"}],"title":"t"}"##,
            ##"{"$ref":"#/definitions/a","definitions":{"a":{"type":"array","items":{"$ref":"#/definitions/a"}}}}"##,
            #"{"enum":["a",1,2.5,true,null]}"#,
            #"{"const":{"nested":[1,2]}}"#,
            #"true"#,
            #"{"type":"object","additionalProperties":{"type":"number"}}"#,
        ]
        for schema in schemas { #expect(Self.error(schema) == nil, "\(schema)") }
    }

    @Test func propertiesKeepSchemaOrderAndRequiredSetsTheWindows() throws {
        let program = try SchemaCompiler.compile(
            #"{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"},"m":{"type":"string"}},"required":["m"]}"#)
        guard case .object(let shape) = program.nodes[Int(program.root)] else { Issue.record("root is not an object"); return }
        let object = program.objects[Int(shape)]
        // Before the first key: z, a (optional) or m (required); windows are sorted, properties keep schema order.
        #expect(object.windows[0].texts.map { String(decoding: $0, as: UTF8.self) } == [#""a""#, #""m""#, #""z""#])
        #expect(object.windows[0].properties == [1, 2, 0])
        #expect(object.windows[2].properties == [2])
        #expect(object.windows[3].texts.isEmpty)
        #expect(object.canClose == [false, false, false, true])
    }

    @Test func recursiveAnyOfFlattensWithoutLooping() throws {
        let program = try SchemaCompiler.compile(##"{"$ref":"#/$defs/v","$defs":{"v":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/v"},{"type":"array","items":{"$ref":"#/$defs/v"}}]}}}"##)
        let alternatives = try #require(program.alternatives(of: program.root))
        #expect(alternatives.count == 2)
        #expect(alternatives.allSatisfy { program.alternatives(of: $0) == nil })
    }
}
