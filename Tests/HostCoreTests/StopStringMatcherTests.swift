import Testing
@testable import HostCore

/// Stop strings end the text exactly before themselves, across token boundaries, without leaking partial matches.
@Suite struct StopStringMatcherTests {
    private func stream(_ chunks: [String], stops: [String]) -> (pieces: [String], text: String, stop: String?) {
        var matcher = StopStringMatcher(stops: stops)
        var pieces: [String] = []
        var stop: String?
        for chunk in chunks {
            let output = matcher.feed(chunk)
            pieces.append(output.text)
            stop = output.stop
            if stop != nil { break }
        }
        if stop == nil {
            let output = matcher.finish()
            pieces.append(output.text)
            stop = output.stop
        }
        return (pieces, pieces.joined(), stop)
    }

    /// The non-streamed answer: the text before the earliest occurrence of any stop string, and whether one occurs.
    private func truncate(_ text: String, stops: [String]) -> (text: String, stopped: Bool) {
        let bytes = Array(text.utf8)
        for start in bytes.indices where stops.contains(where: { !$0.isEmpty && bytes[start...].starts(with: $0.utf8) }) {
            return (String(decoding: bytes[..<start], as: UTF8.self), true)
        }
        return (text, false)
    }

    @Test func aStopStringSpanningTokensIsCutExactly() {
        let two = stream(["The answer is 4</", "answer> and more"], stops: ["</answer>"])
        #expect(two.pieces == ["The answer is 4", ""] && two.stop == "</answer>")
        let three = stream(["Done.<|", "im_", "end|>ignored"], stops: ["<|im_end|>"])
        #expect(three.pieces == ["Done.", "", ""] && three.text == "Done." && three.stop == "<|im_end|>")
    }

    @Test func aPrefixThatDoesNotCompleteIsReleased() {
        let result = stream(["Buy ST", "OCKS and ", "STO"], stops: ["STOP"])
        #expect(result.pieces == ["Buy ", "STOCKS and ", "", "STO"])
        #expect(result.stop == nil && result.text == "Buy STOCKS and STO")
    }

    @Test func theEarliestOfSeveralStopStringsWins() {
        #expect(stream(["a###b\n\nc"], stops: ["\n\n", "###"]).text == "a")
        // "bc" completes first, but "abcd" starts earlier and may still complete: wait for it.
        let waits = stream(["a", "b", "c", "d"], stops: ["abcd", "bc"])
        #expect(waits.pieces == ["", "", "", ""] && waits.stop == "abcd")
        let fallsBack = stream(["a", "b", "c", "x"], stops: ["abcd", "bc"])
        #expect(fallsBack.text == "a" && fallsBack.stop == "bc")
        let atTheEnd = stream(["xab", "c"], stops: ["abcd", "c"])
        #expect(atTheEnd.text == "xab" && atTheEnd.stop == "c")
    }

    @Test func multiByteStopStringsAndTextWork() {
        #expect(stream(["日本", "語の🙂", "テキスト"], stops: ["🙂"]).text == "日本語の")
        #expect(stream(["é"], stops: ["e"]).text == "é")
        #expect(stream(["x", ""], stops: [""]).text == "x")
    }

    @Test func nothingIsReleasedAfterTheStop() {
        var matcher = StopStringMatcher(stops: ["END"])
        #expect(matcher.feed("abcEND").text == "abc")
        #expect(matcher.feed("more") == .init(text: "", stop: "END"))
        #expect(matcher.finish() == .init(text: "", stop: "END"))
        #expect(matcher.isStopped)
    }

    @Test func streamedOutputEqualsTheNonStreamedText() {
        var random = SeededRandom(seed: 11)
        let alphabet = ["a", "b", "<", "/", ">", "é", "🙂", "\n", " "]
        let stopSets = [["</b>"], ["\n\n", "a/"], ["ab", "b<", "🙂\n"], ["aaa"], ["<", "</a>"], ["é🙂"]]
        for _ in 0..<500 {
            let stops = stopSets.randomElement(using: &random)!
            let text = (0..<Int.random(in: 0...30, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            var chunks: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty {
                let take = Int.random(in: 1...4, using: &random)
                chunks.append(String(rest.prefix(take)))
                rest = rest.dropFirst(take)
            }
            let result = stream(chunks, stops: stops)
            let expected = truncate(text, stops: stops)
            #expect(result.text == expected.text, "\(text.debugDescription) in \(chunks) with \(stops)")
            #expect((result.stop != nil) == expected.stopped)
            if let stop = result.stop { #expect(text.utf8.dropFirst(result.text.utf8.count).starts(with: stop.utf8)) }
        }
    }

    @Test func detokenizerAndMatcherTogetherMatchTheWholeText() {
        // "<|" as bytes in one token, "im_end|>" split; an emoji in byte-fallback tokens just before.
        let pieces: [[UInt8]] = [Array("Hi ".utf8), [0xF0, 0x9F], [0x99, 0x82], Array("<|".utf8), Array("im_".utf8), Array("end|> x".utf8)]
        var detokenizer = IncrementalDetokenizer { pieces[Int($0)] }
        var matcher = StopStringMatcher(stops: ["<|im_end|>"])
        var sent = ""
        for token in pieces.indices {
            let output = matcher.feed(detokenizer.feed(Int32(token)))
            sent += output.text
            if output.stop != nil { break }
        }
        #expect(sent == "Hi 🙂")
        #expect(matcher.matched == "<|im_end|>")
    }
}
