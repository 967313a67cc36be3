import Glibc
import Testing
@testable import HostCore

/// Mask timings on the real vocabularies: a benchmark, not a timed test (it prints and asserts nothing about time).
/// Run it in release: `PLEXUS_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter JSONConstraintBenchmark`.
@Suite(.enabled(if: getenv("PLEXUS_BENCH") != nil)) struct JSONConstraintBenchmarkTests {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    @Test(arguments: [ModelFiles.smolLM2, ModelFiles.gemma3])
    func maskTimes(model: String) throws {
        let frontend = try TextFrontend.load(path: ModelFiles.path(model), modelName: model)
        var start = Self.now()
        let any = JSONGrammar.anyObject(tokenizer: frontend.tokenizer)
        print("[bench] \(model): token index built in \(Int((Self.now() - start) * 1000)) ms (vocabulary \(frontend.tokenizer.vocabulary.count))")
        start = Self.now()
        let schema = try JSONGrammar.schema(JSONConstraintTests.person, tokenizer: frontend.tokenizer)
        print("[bench] \(model): schema grammar (cached index) in \(FixedPointText.ms(Self.now() - start))")
        let states: [(String, JSONGrammar, String)] = [
            ("json_object: start", any, ""),
            ("json_object: after {", any, "{"),
            ("json_object: in a key", any, #"{"hel"#),
            ("json_object: value start", any, #"{"a": "#),
            ("json_object: in a string value", any, #"{"a": "hello wor"#),
            ("json_object: in a number", any, #"{"a": 12"#),
            ("json_object: after a value", any, #"{"a": true"#),
            ("schema: in a declared key", schema, #"{"na"#),
            ("schema: in a string value", schema, #"{"name": "Jo"#),
            ("schema: nullable value start", schema, #"{"name": "a", "age": 3, "tags": ["x", "y"], "address": {"city": "P", "zip": "#),
        ]
        for (name, grammar, prefix) in states {
            var constraint = JSONConstraint(grammar: grammar, endTokens: frontend.stopTokens)
            for token in frontend.tokenizer.encode(prefix, addSpecial: false, parseSpecial: false) {
                precondition(constraint.accept(token), "\(name): prefix refused")
            }
            var times: [Double] = []
            var allowed = 0
            for _ in 0..<15 {
                let begin = Self.now()
                let mask = constraint.allowedTokens()
                times.append(Self.now() - begin)
                allowed = mask.reduce(0) { $0 + $1.nonzeroBitCount }
            }
            times.sort()
            print("[bench] \(model) | \(name) | median \(FixedPointText.ms(times[times.count / 2])) | max \(FixedPointText.ms(times.last!)) | \(allowed) allowed")
        }
        // Whole random walks: the constraint's time per step (allowedTokens + accept), sampling not counted.
        var random = SeededRandom(seed: 7)
        let closing = JSONConstraintTests.closingTokens(frontend)
        var steps = 0, spent = 0.0, worst = 0.0
        for _ in 0..<5 {
            var constraint = JSONConstraint(grammar: any, endTokens: frontend.stopTokens)
            for _ in 1...400 {
                let begin = Self.now()
                let mask = constraint.allowedTokens()
                let maskTime = Self.now() - begin
                if frontend.stopTokens.contains(where: { JSONConstraintTests.allowed(mask, $0) }) { break }
                let closers = zip(mask, closing).map { $0 & $1 }
                let token = (Bool.random(using: &random) ? JSONConstraintTests.randomToken(in: closers, &random) : nil)
                    ?? JSONConstraintTests.randomToken(in: mask, &random)!
                let acceptBegin = Self.now()
                _ = constraint.accept(token)
                let stepTime = maskTime + Self.now() - acceptBegin
                spent += stepTime
                worst = max(worst, stepTime)
                steps += 1
            }
        }
        print("[bench] \(model) | json_object random walks | mean \(FixedPointText.ms(spent / Double(steps))) | max \(FixedPointText.ms(worst)) per step (allowedTokens + accept), \(steps) steps")
    }
}

enum FixedPointText {
    static func ms(_ seconds: Double) -> String {
        let micros = Int((seconds * 1e6).rounded())
        return "\(micros / 1000).\(String(micros % 1000 / 10 + 100).dropFirst()) ms"
    }
}
