import Testing
@testable import HostCore

/// Code point classes and the word splits of each pre-tokenizer on small cases (the golden tests cover the rest).
@Suite struct PreTokenizerTests {
    @Test func classifiesLikeLlamaCppTables() {
        #expect(CodepointClass.of(0x61).contains(.letter))
        #expect(CodepointClass.of(0x0663).contains(.number))  // ARABIC-INDIC DIGIT THREE
        #expect(CodepointClass.of(0x00BD).contains(.number))  // ½ (No)
        #expect(CodepointClass.of(0x3002).contains(.punctuation))  // 。
        #expect(CodepointClass.of(0x3000).contains(.whitespace))
        #expect(!CodepointClass.of(0x180E).contains(.whitespace))  // MONGOLIAN VOWEL SEPARATOR: not \s
        #expect(CodepointClass.of(0x0301).contains(.mark))
        #expect(CodepointClass.of(0x1F600).contains(.symbol))
        // Unicode 16 added U+1C89 (a letter); llama.cpp's 15.1 tables do not know it.
        #expect(CodepointClass.of(0x1C89) == .present)
        #expect(CodepointClass.of(0x10FFFF) == .present)
    }

    @Test(arguments: [
        ("smollm", "a  1", ["a", "  ", "1"]),
        ("smollm", "x 123 y", ["x", " ", "1", "2", "3", " y"]),
        ("gpt-2", "Hello world  !", ["Hello", " world", " ", " !"]),
        ("gpt-2", "I'm here", ["I", "'m", " here"]),
        ("llama3", "12345 I'M", ["123", "45", " I", "'M"]),
        ("llama3", "a\n\n b", ["a", "\n\n", " b"]),
        ("qwen2", "x123", ["x", "1", "2", "3"]),
        ("default", "a+b 12345!", ["a", "+", "b", " ", "123", "45", "!"]),
    ])
    func splits(pre: String, text: String, words: [String]) throws {
        let preTokenizer = try #require(PreTokenizer(name: pre))
        let codePoints = text.unicodeScalars.map(\.value)
        let ranges = preTokenizer.split(codePoints, classes: codePoints.map(CodepointClass.of))
        let split = ranges.map { range in String(String.UnicodeScalarView(codePoints[range].map { Unicode.Scalar($0)! })) }
        #expect(split == words)
    }

    @Test func knowsItsNames() {
        #expect(PreTokenizer(name: nil)?.kind == .standard)
        #expect(PreTokenizer(name: "smollm")?.kind == .smollm)
        #expect(PreTokenizer(name: "llama-bpe")?.ignoreMerges == true)
        #expect(PreTokenizer(name: "dbrx")?.ignoreMerges == false)
        #expect(PreTokenizer(name: "deepseek-coder") == nil)
        #expect(PreTokenizer.supportedNames.contains("qwen2"))
    }
}
