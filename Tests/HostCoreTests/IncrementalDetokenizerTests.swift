import Testing
@testable import HostCore

/// Text comes out whole characters at a time, and adds up to decoding everything at once.
@Suite struct IncrementalDetokenizerTests {
    /// A tiny SentencePiece-style vocabulary: "▁" is a space, <0xNN> tokens are single bytes.
    static let vocabulary: [Int32: String] = [1: "▁Hello", 2: "▁world", 3: "!", 4: "<0xF0>", 5: "<0x9F>", 6: "<0x99>",
                                              7: "<0x82>", 8: "<0xE4>", 9: "▁", 10: "</s>"]

    static let piece: IncrementalDetokenizer.PieceBytes = { token in
        guard let text = vocabulary[token], token != 10 else { return [] }
        if text.hasPrefix("<0x"), let byte = UInt8(text.dropFirst(3).dropLast(), radix: 16) { return [byte] }
        return Array(text.replacing("▁", with: " ").utf8)
    }

    @Test func holdsBackAnEmojiSplitIntoByteFallbackTokens() {
        var detokenizer = IncrementalDetokenizer(piece: Self.piece)
        #expect([1, 4, 5, 6, 7, 3].map { detokenizer.feed(Int32($0)) } == [" Hello", "", "", "", "🙂", "!"])
        #expect(!detokenizer.isHoldingBack)
        #expect(detokenizer.finish() == "")
    }

    @Test func appliesSentencePiecesLeadingSpaceRuleOnlyWhenAsked() {
        var decoding = IncrementalDetokenizer(leadingSpace: .stripOne, piece: Self.piece)
        #expect([10, 1, 2, 3].map { decoding.feed(Int32($0)) } == ["", "Hello", " world", "!"])
        var onlySpace = IncrementalDetokenizer(leadingSpace: .stripOne, piece: Self.piece)
        #expect([9, 9, 1].map { onlySpace.feed(Int32($0)) } == ["", " ", " Hello"])
        var continuing = IncrementalDetokenizer(piece: Self.piece)
        #expect(continuing.feed([1, 2]) == " Hello world")
    }

    @Test func aTruncatedCharacterBecomesOneReplacementCharacterAtTheEnd() {
        var detokenizer = IncrementalDetokenizer(piece: Self.piece)
        #expect(detokenizer.feed([1, 4, 5]) == " Hello")
        #expect(detokenizer.isHoldingBack)
        #expect(detokenizer.finish() == "\u{FFFD}")
        #expect(detokenizer.finish() == "")
    }

    @Test func invalidBytesAreReleasedAtOnceAsReplacementCharacters() {
        var detokenizer = IncrementalDetokenizer { _ in [] }
        #expect(detokenizer.feed(bytes: [0xFF]) == "\u{FFFD}")
        #expect(detokenizer.feed(bytes: [0xE0, 0x80]) == "\u{FFFD}\u{FFFD}")  // overlong: not a valid prefix
        #expect(detokenizer.feed(bytes: [0xED]) == "")                        // could still be U+D000...U+D7FF
        #expect(detokenizer.feed(bytes: [0xA0]) == "\u{FFFD}\u{FFFD}")        // a surrogate: invalid
        #expect(detokenizer.feed(bytes: [0xE4, 0xBD]) == "")
        #expect(detokenizer.feed(bytes: [0xA0, 0x41]) == "你A")
        #expect(detokenizer.feed(bytes: [0x80]) == "\u{FFFD}")
    }

    @Test func anySplitOfTheBytesAddsUpToTheWholeText() {
        var random = SeededRandom(seed: 7)
        let alphabet = ["a", " ", "é", "你", "好", "🙂", "👩‍💻", "\n", "ß", "𝄞"]
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            let bytes = Array(text.utf8)
            var detokenizer = IncrementalDetokenizer { _ in [] }
            var out = "", index = 0
            while index < bytes.count {
                let end = min(bytes.count, index + Int.random(in: 1...5, using: &random))
                let chunk = detokenizer.feed(bytes: Array(bytes[index..<end]))
                #expect(!chunk.contains("\u{FFFD}"), "a half character escaped: \(Array(chunk.utf8))")
                out += chunk
                index = end
            }
            out += detokenizer.finish()
            #expect(out == text)
        }
    }
}
