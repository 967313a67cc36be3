/// llama.cpp's "llama" (SentencePiece BPE) tokenizer, llm_tokenizer_spm: spaces become ▁, the text is split into
/// UTF-8 characters, and the adjacent pair whose concatenation is the best-scoring token is merged until no pair
/// is a token; what remains unknown falls back to `<0xXX>` byte tokens. Used by Gemma and Llama 2.
public struct SentencePieceTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    private let splitter: SpecialTokenSplitter
    /// The token for each byte value: `<0xXX>`, else the byte itself as a token, else unknown (else none).
    private let byteTokens: [Int32?]

    /// A tokenizer over `vocabulary`, which must be a SentencePiece one.
    public init(vocabulary: Vocabulary) throws(TokenizerError) {
        guard vocabulary.model == .sentencePiece else {
            throw TokenizerError("a SentencePiece tokenizer needs a 'llama' vocabulary, not '\(vocabulary.model.rawValue)'")
        }
        self.vocabulary = vocabulary
        splitter = SpecialTokenSplitter(vocabulary: vocabulary)
        byteTokens = (0..<256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return vocabulary.token(forText: Array("<0x\(byte < 16 ? "0" : "")\(hex)>".utf8))
                ?? vocabulary.token(forText: [UInt8(byte)]) ?? vocabulary.unknown
        }
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && vocabulary.addsBOS, let bos = vocabulary.bos { output.append(bos) }
        var previousWasSpecial = true
        var session = SentencePieceSession()
        for fragment in splitter.split(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let token):
                output.append(token)
                previousWasSpecial = true
            case .text(let range):
                let prefix = vocabulary.addsSpacePrefix && previousWasSpecial
                session.tokenize(Self.escaped(bytes[range], spacePrefix: prefix), vocabulary: vocabulary,
                                 byteTokens: byteTokens, into: &output)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocabulary.addsEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    /// The text with every space as ▁ (U+2581), optionally after a leading one.
    private static func escaped(_ text: ArraySlice<UInt8>, spacePrefix: Bool) -> [UInt8] {
        let marker: [UInt8] = [0xE2, 0x96, 0x81]
        var result: [UInt8] = spacePrefix ? marker : []
        result.reserveCapacity(text.count + 16)
        for byte in text {
            if byte == UInt8(ascii: " ") { result += marker } else { result.append(byte) }
        }
        return result
    }
}

/// The working state of one SentencePiece merge (llm_tokenizer_spm_session), kept across fragments to reuse
/// its buffers.
struct SentencePieceSession {
    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }

    private struct Bigram: HeapElement {
        let left: Int
        let right: Int
        let score: Float
        let size: Int

        /// Higher score first, then the leftmost pair.
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.score != b.score ? a.score > b.score : a.left < b.left
        }
    }

    private var symbols: [Symbol] = []
    private var queue = BinaryHeap<Bigram>()

    mutating func tokenize(_ text: [UInt8], vocabulary: Vocabulary, byteTokens: [Int32?], into output: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let length = min(Self.sequenceLength(text[offset]), text.count - offset)
            symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1,
                                  next: offset + length == text.count ? -1 : symbols.count + 1))
            offset += length
        }
        text.withUnsafeBytes { text in
            for index in symbols.indices.dropFirst() { addBigram(index - 1, index, text, vocabulary) }
            while let bigram = queue.pop() {
                let (left, right) = (symbols[bigram.left], symbols[bigram.right])
                guard left.length > 0, right.length > 0, left.length + right.length == bigram.size else { continue }
                symbols[bigram.left].length += right.length
                symbols[bigram.right].length = 0
                symbols[bigram.left].next = right.next
                if right.next >= 0 { symbols[right.next].previous = bigram.left }
                addBigram(left.previous, bigram.left, text, vocabulary)
                addBigram(bigram.left, right.next, text, vocabulary)
            }
            var index = symbols.isEmpty ? -1 : 0
            while index != -1 {
                let symbol = symbols[index]
                let piece = UnsafeRawBufferPointer(rebasing: text[symbol.start ..< symbol.start + symbol.length])
                if let token = vocabulary.tokens.id(of: piece), vocabulary.contains(token) {
                    output.append(token)
                } else {
                    for byte in piece { if let token = byteTokens[Int(byte)] { output.append(token) } }
                }
                index = symbol.next
            }
        }
    }

    private mutating func addBigram(_ left: Int, _ right: Int, _ text: UnsafeRawBufferPointer, _ vocabulary: Vocabulary) {
        guard left >= 0, right >= 0 else { return }
        let start = symbols[left].start
        let size = symbols[left].length + symbols[right].length
        guard let token = vocabulary.tokens.id(of: UnsafeRawBufferPointer(rebasing: text[start ..< start + size])),
              vocabulary.contains(token) else { return }
        queue.push(Bigram(left: left, right: right, score: vocabulary.scores[Int(token)], size: size))
    }

    /// llama.cpp's unicode_len_utf8: the sequence length a lead byte announces (1 for continuation bytes).
    static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
