import Synchronization
import Testing
@testable import HostCore

/// Constrained generation on the real vocabularies: random walks through the allowed-token masks always end in
/// text that is one valid JSON value matching the schema; refused tokens are refused; end tokens only at the end.
@Suite struct JSONConstraintTests {
    static let models = [ModelFiles.smolLM2, ModelFiles.gemma3]
    private static let loaded = Mutex<[String: TextFrontend]>([:])

    /// The model's text front-end, loaded once for all the tests of the suite.
    static func frontend(_ model: String) throws -> TextFrontend {
        let path = try ModelFiles.path(model)
        return try loaded.withLock { cache in
            if let frontend = cache[model] { return frontend }
            let frontend = try TextFrontend.load(path: path, modelName: model)
            cache[model] = frontend
            return frontend
        }
    }

    /// A schema with a check of its own (independent of the grammar) for a parsed value.
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let schema: String?
        let check: @Sendable (StrictJSON) -> Bool
    }

    static let person = """
        {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
         "tags":{"type":"array","items":{"type":"string"},"minItems":2,"maxItems":3},
         "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":["string","null"]}},
                    "required":["city","zip"],"additionalProperties":false}},
         "required":["name","age","tags","address"],"additionalProperties":false}
        """

    static let cases: [Case] = [
        Case(description: "json_object", schema: nil) { if case .object = $0 { return true }; return false },
        Case(description: "nested object, array with minItems", schema: person) { value in
            guard value.keys == ["name", "age", "tags", "address"], value["name"]!.isString, value["age"]!.isInteger,
                  let tags = value["tags"]?.items, (2...3).contains(tags.count), tags.allSatisfy(\.isString),
                  let address = value["address"], address.keys == ["city", "zip"] else { return false }
            return address["zip"] == .null || address["zip"]!.isString
        },
        Case(description: "enum and const", schema: """
            {"type":"object","properties":{"color":{"enum":["red","green",12,1.5,null,true]},"kind":{"const":"fixed"}},
             "required":["color","kind"],"additionalProperties":false}
            """) { value in
            let colors: [StrictJSON] = [.string("red"), .string("green"), .number("12"), .number("1.5"), .null, .bool(true)]
            return value.keys == ["color", "kind"] && colors.contains(value["color"]!) && value["kind"] == .string("fixed")
        },
        Case(description: "anyOf of two objects", schema: """
            {"type":"object","properties":{"shape":{"anyOf":[
               {"type":"object","properties":{"radius":{"type":"number"}},"required":["radius"],"additionalProperties":false},
               {"type":"object","properties":{"width":{"type":"number"},"height":{"type":"number"}},"required":["width","height"],"additionalProperties":false}
             ]}},"required":["shape"],"additionalProperties":false}
            """) { value in
            guard let shape = value["shape"] else { return false }
            return (shape.keys == ["radius"] && shape["radius"]!.isNumber)
                || (shape.keys == ["width", "height"] && shape["width"]!.isNumber && shape["height"]!.isNumber)
        },
        Case(description: "$ref recursion", schema: """
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},
             "children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
             "required":["value","children"],"additionalProperties":false}}}
            """) { value in Self.isTree(value, depth: 0) },
        Case(description: "optional properties, booleans, nullable", schema: """
            {"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"number","nullable":true},"c":{"type":"string"}},
             "required":["c"]}
            """) { value in
            let allowed = ["a", "b", "c"]
            guard value.keys.contains("c"), value.keys == allowed.filter(value.keys.contains) else { return false }
            if let a = value["a"], case .bool = a {} else if value["a"] != nil { return false }
            if let b = value["b"], b != .null, !b.isNumber { return false }
            return value["c"]!.isString
        },
        Case(description: "top-level array of numbers", schema: """
            {"type":"array","items":{"type":"number"},"minItems":1}
            """) { value in (value.items?.count ?? 0) >= 1 && value.items!.allSatisfy(\.isNumber) },
    ]

    static func isTree(_ value: StrictJSON, depth: Int) -> Bool {
        guard depth < 40, value.keys == ["value", "children"], value["value"]!.isInteger,
              let children = value["children"]?.items, children.count <= 2 else { return false }
        return children.allSatisfy { isTree($0, depth: depth + 1) }
    }

    @Test(arguments: models, cases)
    func randomWalksEndInValidJSON(model: String, schemaCase: Case) throws {
        let frontend = try Self.frontend(model)
        let grammar = try schemaCase.schema.map { try JSONGrammar.schema($0, tokenizer: frontend.tokenizer) }
            ?? JSONGrammar.anyObject(tokenizer: frontend.tokenizer)
        for seed in UInt64(1)...3 {
            var random = SeededRandom(seed: seed)
            let (text, ended) = Self.walk(grammar, frontend, &random)
            let shown = String(decoding: text, as: UTF8.self)
            #expect(ended, "seed \(seed): no end after \(text.count) bytes: \(shown)")
            let value = StrictJSON.parse(text)
            #expect(value != nil, "seed \(seed): not JSON: \(shown)")
            if let value { #expect(schemaCase.check(value), "seed \(seed): does not match the schema: \(shown)") }
        }
    }

    /// Samples allowed tokens until an end token, half the time among tokens that close something (a quote or
    /// bracket or comma in the piece) so walks finish.
    static func walk(_ grammar: JSONGrammar, _ frontend: TextFrontend, _ random: inout SeededRandom,
                     limit: Int = 600) -> (text: [UInt8], ended: Bool) {
        let closing = Self.closingTokens(frontend)
        var constraint = JSONConstraint(grammar: grammar, endTokens: frontend.stopTokens)
        var text: [UInt8] = []
        for _ in 0..<limit {
            let mask = constraint.allowedTokens()
            if let end = frontend.stopTokens.first(where: { Self.allowed(mask, $0) }) {
                #expect(constraint.isComplete)
                do { let accepted = constraint.accept(end); #expect(accepted) }
                return (text, true)
            }
            #expect(!constraint.isComplete, "complete but no end token allowed")
            let closers = zip(mask, closing).map { $0 & $1 }
            guard let token = (Bool.random(using: &random) ? Self.randomToken(in: closers, &random) : nil)
                    ?? Self.randomToken(in: mask, &random) else {
                Issue.record("no token allowed after \(String(decoding: text, as: UTF8.self))")
                break
            }
            guard constraint.accept(token) else {
                Issue.record("allowed token \(token) refused after \(String(decoding: text, as: UTF8.self))")
                break
            }
            text += frontend.tokenizer.piece(token, special: false)
        }
        return (text, false)
    }

    /// A uniformly random token of `mask`, or nil when it is empty.
    static func randomToken(in mask: [UInt32], _ random: inout SeededRandom) -> Int32? {
        let total = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        guard total > 0 else { return nil }
        var pick = Int.random(in: 0..<total, using: &random)
        for (word, bits) in mask.enumerated() {
            if pick >= bits.nonzeroBitCount { pick -= bits.nonzeroBitCount; continue }
            var rest = bits
            for _ in 0..<pick { rest &= rest - 1 }
            return Int32(word * 32 + rest.trailingZeroBitCount)
        }
        return nil
    }

    private static let closers = Mutex<[String: [UInt32]]>([:])

    /// Bitset of the tokens whose piece has a quote, a closing bracket or a comma (computed once per model).
    static func closingTokens(_ frontend: TextFrontend) -> [UInt32] {
        closers.withLock { cache in
            if let mask = cache[frontend.modelName] { return mask }
            let vocabulary = frontend.tokenizer.vocabulary
            var mask = [UInt32](repeating: 0, count: (vocabulary.count + 31) / 32)
            for token in 0..<vocabulary.count where vocabulary.piece(Int32(token), special: false).contains(where: { "\"}],".utf8.contains($0) }) {
                mask[token / 32] |= 1 << UInt32(token % 32)
            }
            cache[frontend.modelName] = mask
            return mask
        }
    }

    static func tokens(in mask: [UInt32]) -> [Int32] {
        var tokens: [Int32] = []
        for (word, bits) in mask.enumerated() where bits != 0 {
            for bit in 0..<32 where bits & (1 << UInt32(bit)) != 0 { tokens.append(Int32(word * 32 + bit)) }
        }
        return tokens
    }

    static func allowed(_ mask: [UInt32], _ token: Int32) -> Bool { mask[Int(token) / 32] & (1 << UInt32(token % 32)) != 0 }

    /// Feeds `text` tokenized as the model would; returns the constraint and whether every token was accepted.
    static func feed(_ text: String, _ grammar: JSONGrammar, _ frontend: TextFrontend) -> (JSONConstraint, Bool) {
        var constraint = JSONConstraint(grammar: grammar, endTokens: frontend.stopTokens)
        for token in frontend.tokenizer.encode(text, addSpecial: false, parseSpecial: false) {
            let mask = constraint.allowedTokens()
            guard constraint.accept(token) else { return (constraint, false) }
            #expect(Self.allowed(mask, token), "accepted token \(token) was not in the mask")
        }
        return (constraint, true)
    }

    @Test(arguments: models)
    func endTokensOnlyWhenComplete(model: String) throws {
        let frontend = try Self.frontend(model)
        let grammar = JSONGrammar.anyObject(tokenizer: frontend.tokenizer)
        var (constraint, ok) = Self.feed(#"{"a": [1, 2.5e3, "x\u00e9\n", true, null], "b": {}"#, grammar, frontend)
        #expect(ok)
        #expect(!constraint.isComplete)
        let open = constraint.allowedTokens()
        #expect(frontend.stopTokens.allSatisfy { !Self.allowed(open, $0) })
        do { let accepted = constraint.accept(frontend.stopTokens[0]); #expect(!accepted) }
        do { let accepted = constraint.accept(frontend.tokenizer.encode("}", addSpecial: false, parseSpecial: false)[0]); #expect(accepted) }
        #expect(constraint.isComplete)
        let done = constraint.allowedTokens()
        #expect(Self.tokens(in: done) == frontend.stopTokens.sorted())
        do { let accepted = constraint.accept(frontend.tokenizer.encode(" ", addSpecial: false, parseSpecial: false)[0]); #expect(!accepted) }
        do { let accepted = constraint.accept(frontend.stopTokens[0]); #expect(accepted) }
    }

    @Test(arguments: models)
    func refusedTokens(model: String) throws {
        let frontend = try Self.frontend(model)
        let tokenizer = frontend.tokenizer
        let grammar = try JSONGrammar.schema(Self.person, tokenizer: tokenizer)
        func token(_ text: String) -> Int32 {
            let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            precondition(tokens.count == 1, "\(text) is \(tokens.count) tokens")
            return tokens[0]
        }
        var constraint = JSONConstraint(grammar: grammar, endTokens: frontend.stopTokens)
        do { let accepted = constraint.accept(token("[")); #expect(!accepted) }
        do { let accepted = constraint.accept(token("hello")); #expect(!accepted) }
        // A control token is never allowed, even inside a string.
        let control = tokenizer.encode(model == ModelFiles.gemma3 ? "<start_of_turn>" : "<|im_start|>", addSpecial: false, parseSpecial: true)
        #expect(control.count == 1)
        #expect(!Self.allowed(constraint.allowedTokens(), control[0]))
        do { let accepted = constraint.accept(token("{")); #expect(accepted) }
        // Properties come in schema order: "age" cannot come first.
        do { let accepted = constraint.accept(token("\"")); #expect(accepted) }
        var wrongKey = constraint
        do { let accepted = wrongKey.accept(token("age")); #expect(!accepted) }
        do { let accepted = constraint.accept(token("name")); #expect(accepted) }
        #expect(!Self.allowed(constraint.allowedTokens(), control[0]))
        // Unterminated escapes and raw control characters never enter a string.
        var (inString, ok) = Self.feed(#"{"name": "a"#, grammar, frontend)
        #expect(ok)
        do { let accepted = inString.accept(token("\n")); #expect(!accepted) }
        #expect(!Self.allowed(inString.allowedTokens(), token("\n")))
        do { let accepted = inString.accept(token("\\")); #expect(accepted) }
        do { let accepted = inString.accept(token("x")); #expect(!accepted) }
        // Integers take no fraction.
        (inString, ok) = Self.feed(#"{"name": "a", "age": 3"#, grammar, frontend)
        #expect(ok)
        do { let accepted = inString.accept(token(".")); #expect(!accepted) }
        // minItems: the array cannot close after one tag; maxItems: no fourth tag.
        var (tags, fed) = Self.feed(#"{"name": "a", "age": 3, "tags": ["x""#, grammar, frontend)
        #expect(fed)
        do { let accepted = tags.accept(token("]")); #expect(!accepted) }
        (tags, fed) = Self.feed(#"{"name": "a", "age": 3, "tags": ["x", "y", "z""#, grammar, frontend)
        #expect(fed)
        do { let accepted = tags.accept(token(",")); #expect(!accepted) }
        // Required properties: the object cannot close early.
        (tags, fed) = Self.feed(#"{"name": "a", "age": 3, "tags": ["x", "y"]"#, grammar, frontend)
        #expect(fed)
        do { let accepted = tags.accept(token("}")); #expect(!accepted) }
    }

    /// The mask is exactly the set of tokens `accept` takes (brute force over the vocabulary), in states that
    /// use the string shortcut, the trie walk and anyOf branches.
    @Test(arguments: models)
    func maskEqualsBruteForce(model: String) throws {
        let frontend = try Self.frontend(model)
        let schema = try JSONGrammar.schema(Self.person, tokenizer: frontend.tokenizer)
        let any = JSONGrammar.anyObject(tokenizer: frontend.tokenizer)
        let states: [(JSONGrammar, String)] = model == ModelFiles.gemma3
            ? [(any, #"{"a": "x"#), (schema, #"{"name": "a", "age": 3, "tags": ["x", "y"], "address": {"city": "P", "zip": "#)]
            : [(any, ""), (any, "{"), (any, #"{"a": "x"#), (any, #"{"a": 1"#), (any, #"{"a": [tr"#), (schema, #"{"na"#),
               (schema, #"{"name": "a", "age": 3, "tags": ["x", "y"], "address": {"city": "P", "zip": "#)]
        for (grammar, prefix) in states {
            var (constraint, ok) = Self.feed(prefix, grammar, frontend)
            #expect(ok, "\(prefix)")
            let mask = constraint.allowedTokens()
            var mismatches: [Int32] = []
            for token in 0..<Int32(frontend.tokenizer.vocabulary.count) {
                var copy = constraint
                if copy.accept(token) != Self.allowed(mask, token) { mismatches.append(token) }
            }
            #expect(mismatches.isEmpty, "\(prefix): \(mismatches.prefix(10))")
        }
    }

    /// Gemma 3's user-defined markers are never output, even inside a string; its whitespace runs are.
    @Test func markerTokensAreNeverAllowed() throws {
        let frontend = try Self.frontend(ModelFiles.gemma3)
        var (constraint, ok) = Self.feed(#"{"a": "x"#, JSONGrammar.anyObject(tokenizer: frontend.tokenizer), frontend)
        #expect(ok)
        let startOfImage = frontend.tokenizer.encode("<start_of_image>", addSpecial: false, parseSpecial: true)
        #expect(startOfImage == [255999])
        let mask = constraint.allowedTokens()
        #expect(!Self.allowed(mask, 255999))
        #expect(!Self.allowed(mask, frontend.tokenizer.encode("<table>", addSpecial: false, parseSpecial: false)[0]))
        let spaces = frontend.tokenizer.encode("  ", addSpecial: false, parseSpecial: false)
        #expect(spaces.count == 1 && frontend.tokenizer.vocabulary.attributes(of: spaces[0]).contains(.userDefined))
        #expect(Self.allowed(mask, spaces[0]))
        do { let accepted = constraint.accept(255999); #expect(!accepted) }
    }

    @Test(arguments: models)
    func whitespaceIsBounded(model: String) throws {
        let frontend = try Self.frontend(model)
        let grammar = JSONGrammar.anyObject(tokenizer: frontend.tokenizer)
        let space = frontend.tokenizer.encode(" ", addSpecial: false, parseSpecial: false)[0]
        var constraint = JSONConstraint(grammar: grammar, endTokens: frontend.stopTokens)
        do { let accepted = constraint.accept(space); #expect(accepted) }
        do { let accepted = constraint.accept(space); #expect(!accepted, "one byte of leading whitespace at most") }
        var (inside, ok) = Self.feed("{", grammar, frontend)
        #expect(ok)
        var taken = 0
        while inside.accept(space) { taken += 1; if taken > 100 { break } }
        #expect(taken == Int(WhitespaceRun.maxBytes))
        (inside, ok) = Self.feed("{\n  \"a\":\n", grammar, frontend)
        #expect(ok)
        do { let accepted = inside.accept(frontend.tokenizer.encode("\n", addSpecial: false, parseSpecial: false)[0]); #expect(!accepted) }
    }
}
