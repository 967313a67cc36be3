/// The scanners behind `PreTokenizer`, each a port of one llama.cpp regex split (unicode.cpp). A scanner splits
/// one piece `[start, end)` of the text; positions at or past `end` read as "out of range" (no code point, no
/// class), which is how llama.cpp's `_get_cpt`/`_get_flags` see piece boundaries.
struct PreTokenizerScanner {
    let text: [UInt32]
    let classes: [CodepointClass]

    private static let outOfRange: UInt32 = 0xFFFF_FFFF
    private static let apostrophe = UInt32(UInt8(ascii: "'"))
    private static let space = UInt32(UInt8(ascii: " "))
    private static let carriageReturn: UInt32 = 0x0D
    private static let lineFeed: UInt32 = 0x0A

    /// Runs `split` over every piece, in order.
    func apply(_ pieces: [Range<Int>], _ split: (Range<Int>, inout [Range<Int>]) -> Void) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity(pieces.count * 2)
        for piece in pieces { split(piece, &result) }
        return result
    }

    // MARK: - GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+

    func gpt2(_ piece: Range<Int>, into out: inout [Range<Int>]) {
        var cursor = PreTokenizerCursor(piece: piece, text: text, classes: classes)
        while cursor.position < piece.upperBound {
            let position = cursor.position
            let current = text[position]
            if current == Self.apostrophe, let length = contraction(at: position, end: piece.upperBound, foldCase: false) {
                cursor.emit(to: position + length)
                continue
            }
            let leadingSpace = current == Self.space
            var next = leadingSpace ? cursor.classAt(position + 1) : classes[position]
            let skip = leadingSpace ? 1 : 0
            if next.contains(.letter) || next.contains(.number) {
                let run: CodepointClass = next.contains(.letter) ? .letter : .number
                var end = position + skip
                while next.contains(run) { end += 1; next = cursor.classAt(end) }
                cursor.emit(to: end)
                continue
            }
            if Self.isOther(next) {
                var end = position + skip
                while Self.isOther(next) { end += 1; next = cursor.classAt(end) }
                cursor.emit(to: end)
                continue
            }
            cursor.emitWhitespace(from: position, trailingNewlines: false)
        }
        cursor.finish(into: &out)
    }

    // MARK: - Llama 3 / Qwen2: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
    //         | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+          (Qwen2: \p{N} instead of \p{N}{1,3})

    func llama3(_ piece: Range<Int>, maximumDigits: Int, into out: inout [Range<Int>]) {
        var cursor = PreTokenizerCursor(piece: piece, text: text, classes: classes)
        while cursor.position < piece.upperBound {
            let position = cursor.position
            let current = text[position]
            let currentClass = classes[position]
            if current == Self.apostrophe, let length = contraction(at: position, end: piece.upperBound, foldCase: true) {
                cursor.emit(to: position + length)
                continue
            }
            if !(current == Self.carriageReturn || current == Self.lineFeed || currentClass.contains(.number)),
               currentClass.contains(.letter) || cursor.classAt(position + 1).contains(.letter) {
                var end = position + 1
                while cursor.classAt(end).contains(.letter) { end += 1 }
                cursor.emit(to: end)
                continue
            }
            if currentClass.contains(.number) {
                var end = position
                var groupStart = position
                while cursor.classAt(end).contains(.number) {
                    end += 1
                    if end - groupStart >= maximumDigits {
                        cursor.emit(to: end)
                        groupStart = end
                    }
                }
                cursor.emit(to: end)
                continue
            }
            var next = current == Self.space ? cursor.classAt(position + 1) : currentClass
            // llama.cpp tests the class of the current code point, not of the next one, for "present" here.
            if next.isDisjoint(with: [.whitespace, .letter, .number]) && currentClass.contains(.present) {
                var end = position + (current == Self.space ? 1 : 0)
                while Self.isOther(next) { end += 1; next = cursor.classAt(end) }
                while cursor.codePoint(at: end) == Self.carriageReturn || cursor.codePoint(at: end) == Self.lineFeed {
                    end += 1
                }
                cursor.emit(to: end)
                continue
            }
            cursor.emitWhitespace(from: position, trailingNewlines: true)
        }
        cursor.finish(into: &out)
    }

    // MARK: - Passes of llama.cpp's std::regex fallback (matches and the gaps between them both become pieces)

    /// `\p{N}`: every number code point alone.
    func singleNumbers(_ piece: Range<Int>, into out: inout [Range<Int>]) {
        splitMatches(piece, into: &out) { start in classes[start].contains(.number) ? start + 1 : nil }
    }

    /// `\p{N}+`: runs of number code points.
    func numberRuns(_ piece: Range<Int>, into out: inout [Range<Int>]) {
        splitMatches(piece, into: &out) { start in runEnd(from: start, in: piece) { classes[$0].contains(.number) } }
    }

    /// `[\p{P}\$\+<=>\^~\|]+`: runs of punctuation and of the ASCII symbols $ + < = > ^ ~ | (not `).
    func punctuationRuns(_ piece: Range<Int>, into out: inout [Range<Int>]) {
        splitMatches(piece, into: &out) { start in runEnd(from: start, in: piece, where: isPunctuationRunMember) }
    }

    /// `[0-9][0-9][0-9]`: ASCII digit triples, leftmost first.
    func asciiDigitTriples(_ piece: Range<Int>, into out: inout [Range<Int>]) {
        func digit(_ index: Int) -> Bool { index < piece.upperBound && (0x30...0x39).contains(text[index]) }
        splitMatches(piece, into: &out) { start in digit(start) && digit(start + 1) && digit(start + 2) ? start + 3 : nil }
    }

    // MARK: - Helpers

    /// `[^\s\p{L}\p{N}]` for a code point inside the piece (out of range is never "other").
    private static func isOther(_ value: CodepointClass) -> Bool {
        value.contains(.present) && value.isDisjoint(with: [.whitespace, .letter, .number])
    }

    /// The length of a contraction ('s 't 'm 'd 're 've 'll) starting at the apostrophe at `position`.
    private func contraction(at position: Int, end: Int, foldCase: Bool) -> Int? {
        guard position + 1 < end else { return nil }
        func letter(_ index: Int) -> UInt32 {
            let value = text[index]
            return foldCase && (0x41...0x5A).contains(value) ? value + 0x20 : value
        }
        let first = letter(position + 1)
        if [0x73, 0x74, 0x6D, 0x64].contains(first) { return 2 }  // s t m d
        guard position + 2 < end else { return nil }
        let second = letter(position + 2)
        let pairs: [(UInt32, UInt32)] = [(0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C)]  // re ve ll
        return pairs.contains { $0 == (first, second) } ? 3 : nil
    }

    /// What the collapsed class `[\p{P}\$\+<=>\^~\|]` matches: ASCII !"#$%&'()*+,-./:;<=>?@[\]^_{|}~ and non-ASCII,
    /// non-whitespace punctuation.
    private func isPunctuationRunMember(_ index: Int) -> Bool {
        let value = text[index]
        if value < 0x80 {
            return (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value) || (0x5B...0x5F).contains(value)
                || (0x7B...0x7E).contains(value)
        }
        return classes[index].contains(.punctuation) && !classes[index].contains(.whitespace)
    }

    private func runEnd(from start: Int, in piece: Range<Int>, where member: (Int) -> Bool) -> Int? {
        guard member(start) else { return nil }
        var end = start + 1
        while end < piece.upperBound && member(end) { end += 1 }
        return end
    }

    /// Splits `piece` into the leftmost non-overlapping matches (`match(start)` gives a match's end) and the gaps.
    private func splitMatches(_ piece: Range<Int>, into out: inout [Range<Int>], _ match: (Int) -> Int?) {
        var gapStart = piece.lowerBound
        var position = piece.lowerBound
        while position < piece.upperBound {
            guard let end = match(position) else { position += 1; continue }
            if position > gapStart { out.append(gapStart ..< position) }
            out.append(position ..< end)
            position = end
            gapStart = end
        }
        if gapStart < piece.upperBound { out.append(gapStart ..< piece.upperBound) }
    }
}
