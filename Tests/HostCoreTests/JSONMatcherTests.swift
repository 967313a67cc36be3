import Testing
@testable import HostCore

/// The byte automaton without a vocabulary: texts fed byte by byte (branching at anyOf as JSONConstraint does).
@Suite struct JSONMatcherTests {
    enum Outcome: Equatable { case complete, partial, refused }

    static func run(_ schema: String?, _ text: String) throws -> Outcome {
        let program = try schema.map { try SchemaCompiler.compile($0) } ?? GrammarProgram.base()
        func split(_ matcher: JSONMatcher) -> [JSONMatcher] { matcher.isBranchPoint(program) ? matcher.branches(program) : [matcher] }
        var paths = split(JSONMatcher(program: program))
        for byte in text.utf8 {
            paths = paths.flatMap { path -> [JSONMatcher] in
                var path = path
                return path.advance(byte, program) ? split(path) : []
            }
            if paths.isEmpty { return .refused }
        }
        return paths.contains { $0.isComplete(program) } ? .complete : .partial
    }

    @Test(arguments: [
        ("{}", Outcome.complete), (#" {"a":1}"#, .complete), (#"  {}"#, .refused), (#"{"a":[1,{"b":null}],"c":"\u00e9"}"#, .complete),
        (#"{"a":01}"#, .refused), (#"{"a":-0.5e+3}"#, .complete), (#"{"a":1.}"#, .refused), (#"{"a":.5}"#, .refused),
        (#"{"a":[1,]}"#, .refused), (#"{"a":1,}"#, .refused), (#"{"a" : tru"#, .partial), (#"{"a":trux"#, .refused),
        ("[]", .refused), ("\"x\"", .refused), (#"{"a":"\q"}"#, .refused), (#"{"a":"\ud800"}"#, .refused),
        (#"{"a":"\u00E9\n\/"}"#, .complete), ("{\"a\":\"\u{1}\"}", .refused), ("{\"a\":\"é😀\"}", .complete),
        (#"{"a":"x"}  "#, .refused), ("{\"a\":\n\n1}", .refused), ("{\n  \"a\": 1\n}", .complete),
    ])
    func anyObject(text: String, outcome: Outcome) throws {
        #expect(try Self.run(nil, text) == outcome, "\(text)")
    }

    @Test func invalidUTF8IsRefusedInStrings() throws {
        let program = GrammarProgram.base()
        for bad: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xFF]] {
            var matcher = JSONMatcher(program: program)
            var ok = true
            for byte in Array(#"{"a":""#.utf8) + bad { ok = ok && matcher.advance(byte, program) }
            #expect(!ok, "\(bad)")
        }
    }

    static let schema = """
        {"type":"object","properties":{
          "id":{"type":"integer"},
          "kind":{"enum":["a","ab",1,12]},
          "opt":{"type":["string","null"]},
          "list":{"type":"array","items":{"anyOf":[{"type":"object","properties":{"x":{"type":"number"}},"required":["x"],"additionalProperties":false},
                                                  {"type":"object","properties":{"y":{"type":"boolean"}},"required":["y"],"additionalProperties":false}]},
                  "minItems":1,"maxItems":2}},
         "required":["id","kind","list"],"additionalProperties":false}
        """

    @Test(arguments: [
        (#"{"id":1,"kind":"a","list":[{"x":1}]}"#, Outcome.complete),
        (#"{"id":1,"kind":"ab","opt":null,"list":[{"y":true},{"x":2.5}]}"#, .complete),
        (#"{"id":1,"kind":12,"opt":"s","list":[{"x":1}]}"#, .complete),
        (#"{"id":1,"kind":1,"list":[{"x":1}]}"#, .complete),
        (#"{"id":1,"kind":123"#, .refused), (#"{"id":1.5"#, .refused), (#"{"kind""#, .refused),
        (#"{"id":1,"kind":"b""#, .refused), (#"{"id":1,"kind":"a","list":[]"#, .refused),
        (#"{"id":1,"kind":"a","list":[{"x":1},{"x":1},"#, .refused), (#"{"id":1,"kind":"a","list":[{"x":true}"#, .refused),
        (#"{"id":1,"kind":"a","list":[{"x":1}],"other":1}"#, .refused), (#"{"id":1,"kind":"a","list":[{"x":1}],"opt":null}"#, .refused),
        (#"{"id":1,"kind":"a","opt":nul"#, .partial), (#"{"id":1,"kind":"a"}"#, .refused),
    ])
    func schemaTexts(text: String, outcome: Outcome) throws {
        #expect(try Self.run(Self.schema, text) == outcome, "\(text)")
    }

    @Test func recursionIsBoundedByDepth() throws {
        let tree = ##"{"$ref":"#/$defs/t","$defs":{"t":{"type":"array","items":{"$ref":"#/$defs/t"}}}}"##
        let deep = JSONMatcher.maxDepth
        #expect(try Self.run(tree, String(repeating: "[", count: deep) + String(repeating: "]", count: deep)) == .complete)
        #expect(try Self.run(tree, String(repeating: "[", count: deep + 1)) == .refused)
    }

    @Test func topLevelNumbersAndLiterals() throws {
        #expect(try Self.run(#"{"type":"number"}"#, "12") == .complete)
        #expect(try Self.run(#"{"type":"number"}"#, "-") == .partial)
        #expect(try Self.run(#"{"type":"integer"}"#, "1e5") == .refused)
        #expect(try Self.run(#"{"type":"number"}"#, String(repeating: "1", count: Int(NumberLexer.maxLength) + 1)) == .refused)
        #expect(try Self.run(#"{"enum":[1,12]}"#, "1") == .complete)
        #expect(try Self.run(#"{"type":"boolean"}"#, "false") == .complete)
    }
}
