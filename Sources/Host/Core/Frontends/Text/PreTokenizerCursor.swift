/// The state of one scanner over one piece: where the last word ended, and the words found so far. Mirrors the
/// `_get_cpt`, `_get_flags` and `_add_token` helpers of llama.cpp's custom splitters.
struct PreTokenizerCursor {
    /// Where the next word starts (llama.cpp's `pos`, equal to `_prev_end` between words).
    private(set) var position: Int
    private let end: Int
    private let text: [UInt32]
    private let classes: [CodepointClass]
    private var words: [Range<Int>] = []

    init(piece: Range<Int>, text: [UInt32], classes: [CodepointClass]) {
        position = piece.lowerBound
        end = piece.upperBound
        self.text = text
        self.classes = classes
    }

    /// The class at `index`, or no class past the piece.
    func classAt(_ index: Int) -> CodepointClass { index < end ? classes[index] : [] }

    /// The code point at `index`, or 0xFFFFFFFF past the piece.
    func codePoint(at index: Int) -> UInt32 { index < end ? text[index] : 0xFFFF_FFFF }

    /// Ends the current word at `wordEnd` (an empty word is dropped).
    mutating func emit(to wordEnd: Int) {
        if wordEnd > position { words.append(position ..< wordEnd) }
        position = wordEnd
    }

    /// The whitespace alternatives: (Llama 3 only: `\s*[\r\n]+`,) `\s+(?!\S)`, `\s+`, else one code point.
    mutating func emitWhitespace(from start: Int, trailingNewlines: Bool) {
        var count = 0
        var afterLastNewline = 0
        while classAt(start + count).contains(.whitespace) {
            let value = text[start + count]
            if value == 0x0D || value == 0x0A { afterLastNewline = start + count + 1 }
            count += 1
        }
        if trailingNewlines && afterLastNewline > 0 {
            emit(to: afterLastNewline)
        } else if count > 1 && start + count < end {
            emit(to: start + count - 1)
        } else if count > 0 {
            emit(to: start + count)
        } else {
            emit(to: start + 1)
        }
    }

    /// Hands the words found to `out`.
    func finish(into out: inout [Range<Int>]) { out.append(contentsOf: words) }
}
