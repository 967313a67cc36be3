import Glibc
import Testing
@testable import HostCore

/// Errors name their place in the source, raise_exception surfaces its message, and no template can hang or
/// exhaust the server.
@Suite struct TemplateTests {
    private func render(_ source: String, _ context: [String: TemplateValue] = [:],
                        limits: TemplateLimits = .standard) throws(TemplateError) -> String {
        try Template(source).render(context, limits: limits)
    }

    private func failure(_ source: String, _ context: [String: TemplateValue] = [:],
                         limits: TemplateLimits = .standard) -> TemplateError? {
        do {
            _ = try render(source, context, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func syntaxErrorsNameLineAndColumn() throws {
        let error = try #require(failure("{% if true %}\n  {{ 1 + }}\n{% endif %}"))
        #expect(error.kind == .syntax)
        #expect(error.line == 2 && error.column == 10, "\(error)")
        #expect(error.description == "template syntax error at line 2, column 10: unexpected '}}'")

        let unclosed = try #require(failure("line one\n{% for m in messages %}\n{{ m }}"))
        #expect(unclosed.kind == .syntax && unclosed.line == 3, "\(unclosed)")
        #expect(unclosed.message.contains("'endfor'"))

        let badChar = try #require(failure("ok\n\nxx {{ a ? b }}"))
        #expect(badChar.line == 3 && badChar.column == 9, "\(badChar)")
        #expect(badChar.message == "unexpected char '?'")

        let string = try #require(failure("{{ 'open }}"))
        #expect(string.kind == .syntax && string.column == 4, "\(string)")
    }

    @Test func unsupportedFeaturesFailWhenTheTemplateLoads() throws {
        for (source, line, column) in [("a\n{{ x | frobnicate }}", 2, 6), ("{% if x is prime %}{% endif %}", 1, 9),
                                       ("{% include 'other.jinja' %}", 1, 4), ("{% for x in y recursive %}{% endfor %}", 1, 15)] {
            do {
                _ = try Template(source)
                Issue.record("accepted \(source)")
            } catch {
                #expect(error.kind == .unsupported, "\(error)")
                #expect(error.line == line && error.column == column, "\(source): \(error)")
            }
        }
    }

    @Test func raiseExceptionSurfacesTheTemplatesMessage() throws {
        let source = "{% for m in messages %}\n{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}"
        let error = try #require(failure(source, ["messages": [["role": "system"]]]))
        #expect(error.kind == .raised)
        #expect(error.message == "System role not supported")
        #expect(error.line == 2 && error.column == 31, "\(error)")
    }

    @Test func runtimeErrorsNameTheValueAndPlace() throws {
        let undefined = try #require(failure("{{ message.content.strip() }}"))
        #expect(undefined.kind == .undefined && undefined.message == "'message' is undefined", "\(undefined)")
        let attribute = try #require(failure("\n  {{ m.missing.x }}", ["m": [:]]))
        #expect(attribute.message == "'m' has no attribute 'missing'" && attribute.line == 2 && attribute.column == 6, "\(attribute)")
        let type = try #require(failure("{{ 'a' + 1 }}"))
        #expect(type.kind == .type && type.message == "unsupported operand type(s) for +: 'str' and 'int'")
        let notIterable = try #require(failure("{% for x in 5 %}{% endfor %}"))
        #expect(notIterable.message == "'int' object is not iterable")
        let content = try #require(failure("{{ '</think>' in c }}", ["c": nil]))
        #expect(content.message == "argument of type 'NoneType' is not iterable")
    }

    @Test func runawayLoopsStopWithALimitError() throws {
        let limits = TemplateLimits(maxWork: 200_000)
        let nested = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        let error = try #require(failure(nested, limits: limits))
        #expect(error.kind == .limit && error.message.contains("units of work"), "\(error)")

        let standard = try #require(failure("{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}"))
        #expect(standard.kind == .limit, "\(standard)")
    }

    @Test func hugeValuesAndOutputsStopWithALimitError() throws {
        let repeated = try #require(failure("{{ 'x' * 1000000000 }}"))
        #expect(repeated.kind == .limit, "\(repeated)")
        let doubling = "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
        #expect(failure(doubling)?.kind == .limit)
        let output = try #require(failure("{% for i in range(100000) %}{{ 'y' * 200 }}{% endfor %}",
                                          limits: TemplateLimits(maxOutputBytes: 1 << 20)))
        #expect(output.kind == .limit && output.message.contains("output"), "\(output)")
        #expect(failure("{{ range(1000000000) | length }}")?.kind == .limit)
        #expect(failure("{{ 2 ** 64 }}")?.kind == .limit)
        // Results that are far larger than their inputs are refused before they are built.
        let big = "{% set s = 'x' * 600000 %}"
        let megabyte = TemplateLimits(maxOutputBytes: 1 << 20)
        for amplifier in ["{{ [s] * 1000 }}", "{{ ([s] * 1000) | join }}", "{{ ''.join([s] * 1000) }}", "{{ ([s] * 3) | tojson }}",
                          "{{ s.replace('x', 'yyy') }}", "{{ s | replace('x', s) }}", "{{ ('a\n' * 100000) | indent(s) }}",
                          "{{ [[[[1]]]] | tojson(indent=s) }}", "{{ ([s] * 1000) | string }}", "{{ 'a' ~ [s, s, s] }}"] {
            let error = failure(big + amplifier, limits: megabyte)
            #expect(error?.kind == .limit, "\(amplifier): \(String(describing: error))")
        }
    }

    @Test func loopsCannotBuildValuesDeepEnoughToOverflowTheStack() throws {
        let deepening = "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}"
        let error = try #require(failure(deepening))
        #expect(error.kind == .limit && error.message.contains("nests"), "\(error)")
        let viaNamespaces = "{% set ns = namespace(n=namespace(a=1)) %}{% for i in range(100000) %}"
            + "{% set ns.n = namespace(a=[ns.n.a]) %}{% endfor %}"
        #expect(failure(viaNamespaces)?.kind == .limit)
        let viaMacros = "{% macro f(x, n) %}{% if n > 0 %}{{ f([[[[x]]]], n - 1) }}{% endif %}{% endmacro %}{{ f(1, 23) }}"
        #expect(failure(viaMacros)?.kind == .limit)
        #expect(try render("{% set ns = namespace(l=[]) %}{% for i in range(50) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l | tojson | length }}") == "102")
    }

    @Test func recursionAndDeepNestingAreBounded() throws {
        let recursion = try #require(failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        #expect(recursion.kind == .limit && recursion.message.contains("macro calls"), "\(recursion)")
        let parentheses = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        #expect(failure("{{ \(parentheses) }}")?.kind == .limit)
        let blocks = String(repeating: "{% if true %}", count: 500) + String(repeating: "{% endif %}", count: 500)
        #expect(failure(blocks)?.kind == .limit)
        let nots = "{{ " + String(repeating: "not ", count: 5000) + "x }}"
        #expect(failure(nots)?.kind == .limit)
        let negatives = "{{ " + String(repeating: "-", count: 5000) + "1 }}"
        #expect(failure(negatives)?.kind == .limit)
        // The deepest nesting the parser allows, inside 20 macro calls, renders on a small thread stack. Measured
        // need: 256 KiB in a release build, 1 MiB in a debug build (debug frames are much larger).
        let deepest = try #require((1...TemplateParser.maxNesting).reversed().lazy.map { depth in
            String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        }.first { (try? Template("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}{{ \($0) | length }}{% endif %}{% endmacro %}")) != nil })
        let rendered = try onSmallStack { () throws(TemplateError) -> String in
            try Template("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}{{ \(deepest) | length }}{% endif %}{% endmacro %}{{ f(20) }}")
                .render([:])
        }
        #expect(rendered == "1")
    }

    @Test func strftimeNowUsesTheGivenClock() throws {
        setenv("TZ", "UTC", 1)
        tzset()
        let text = try Template("{{ strftime_now('%d %b %Y %H:%M') }}").render([:], clock: { 1_721_995_200 })
        #expect(text == "26 Jul 2024 12:00")
    }

    @Test func transformersGenerationTagRendersItsBody() throws {
        // transformers' AssistantTracker extension adds {% generation %}; it only marks where assistant text is.
        let source = "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}"
            + "{% else %}[{{ m.content }}]{% endif %}{% endfor %}"
        #expect(try render(source, ["messages": [["role": "user", "content": "q"], ["role": "assistant", "content": "a"]]]) == "[q]a")
    }

    @Test func contextOverridesGlobalsAndTopLevelSetsPersist() throws {
        #expect(try render("{{ range }}", ["range": "mine"]) == "mine")
        #expect(try render("{% if true %}{% set x = 1 %}{% endif %}{{ x }}") == "1")
        #expect(try render("{% set messages = messages[1:] %}{{ messages | length }}", ["messages": [1, 2, 3]]) == "2")
    }

    #if DEBUG
    private static let smallStack = 2 << 20
    #else
    private static let smallStack = 512 << 10
    #endif

    /// Runs `body` on a thread with a small stack (`smallStack`) and returns its result.
    private func onSmallStack(_ body: @escaping @Sendable () throws(TemplateError) -> String) throws -> String {
        let task = SmallStackTask(body)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, Self.smallStack)
        var thread = pthread_t()
        let created = pthread_create(&thread, &attributes, { raw in
            let task = Unmanaged<SmallStackTask>.fromOpaque(raw!).takeRetainedValue()
            do throws(TemplateError) { task.result = .success(try task.body()) } catch { task.result = .failure(error) }
            return nil
        }, Unmanaged.passRetained(task).toOpaque())
        precondition(created == 0, "pthread_create failed")
        pthread_join(thread, nil)
        pthread_attr_destroy(&attributes)
        return try task.result!.get()
    }
}

/// A body and its result, handed to a thread (joined before the result is read).
private final class SmallStackTask: @unchecked Sendable {
    var result: Result<String, TemplateError>?
    let body: @Sendable () throws(TemplateError) -> String
    init(_ body: @escaping @Sendable () throws(TemplateError) -> String) { self.body = body }
}

/// JSON in and out: key order kept, Python's number and escape spellings.
@Suite struct TemplateJSONTests {
    @Test func decodesWithKeyOrderAndPythonNumberTypes() throws {
        let value = try TemplateJSON.decode(#"{"z": 1, "a": [1.0, 2e3, -0, "\u00e9\ud83d\ude42\n"], "m": {"t": true, "n": null}}"#)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["a"] == [1.0, 2000.0, 0, "é🙂\n"])
        if case .array(let items)? = object["a"], case .double = items[0], case .int = items[2] {} else {
            Issue.record("1.0 must stay a float and -0 an int: \(String(describing: object["a"]))")
        }
        #expect(try TemplateJSON.encode(value) == #"{"z": 1, "a": [1.0, 2000.0, 0, "é🙂\n"], "m": {"t": true, "n": null}}"#)
    }

    @Test func encodesLikePythonJSONDumps() throws {
        let value: TemplateValue = ["b": [1, "x"], "a": ["é": nil], "e": [], "o": [:]]
        #expect(try TemplateJSON.encode(value, style: .init(indent: "  ")) ==
                "{\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"a\": {\n    \"é\": null\n  },\n  \"e\": [],\n  \"o\": {}\n}")
        #expect(try TemplateJSON.encode(value, style: .init(sortKeys: true, ensureASCII: true)) ==
                #"{"a": {"\u00e9": null}, "b": [1, "x"], "e": [], "o": {}}"#)
        #expect(try TemplateJSON.encode("\u{1}\u{7f}\u{2028}\"\\/") == "\"\\u0001\u{7f}\u{2028}\\\"\\\\/\"")
        #expect(try TemplateJSON.encode([.double(.infinity), .double(1e-7), .double(1e22)]) == "[Infinity, 1e-07, 1e+22]")
        #expect(throws: TemplateJSON.Failure.self) { try TemplateJSON.encode(.undefined) }
    }

    @Test func refusesInvalidOrTooDeepJSON() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01x", "\"unterminated", "tru", "[1] 2", "\"\u{1}\""] {
            #expect(throws: TemplateJSON.Failure.self, "\(text.debugDescription)") { try TemplateJSON.decode(text) }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: TemplateJSON.Failure.self) { try TemplateJSON.decode(deep) }
    }
}
