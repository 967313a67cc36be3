/// llama.cpp's byte-level BPE tokenizer ("gpt2" vocabularies, llm_tokenizer_bpe): the pre-tokenizer splits the
/// text into words, each word's bytes are spelled in GPT-2's byte alphabet, and the adjacent pair with the
/// lowest merge rank is merged until no pair has a rank. Used by SmolLM2, GPT-2, Llama 3 and Qwen2.
public struct BytePairTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    private let preTokenizer: PreTokenizer
    private let merges: BytePairMerges
    private let splitter: SpecialTokenSplitter

    /// A tokenizer over `vocabulary`, a byte-level BPE one, with the merges of `tokenizer.ggml.merges`.
    public init(vocabulary: Vocabulary, merges: GGUFArray) throws(TokenizerError) {
        guard vocabulary.model == .bytePair, let preTokenizer = vocabulary.preTokenizer else {
            throw TokenizerError("a byte-level BPE tokenizer needs a 'gpt2' vocabulary, not '\(vocabulary.model.rawValue)'")
        }
        guard merges.elementType == .string else {
            throw TokenizerError("tokenizer.ggml.merges must be an array of string, not of \(merges.elementType)")
        }
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.merges = BytePairMerges(vocabulary: vocabulary, lines: merges)
        splitter = SpecialTokenSplitter(vocabulary: vocabulary)
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && vocabulary.addsBOS, let bos = vocabulary.bos { output.append(bos) }
        var session = BytePairSession()
        for fragment in splitter.split(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let token): output.append(token)
            case .text(let range): encodeText(bytes[range], session: &session, into: &output)
            }
        }
        if addSpecial && vocabulary.addsEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    private func encodeText(_ text: ArraySlice<UInt8>, session: inout BytePairSession, into output: inout [Int32]) {
        var codePoints: [UInt32] = []
        var offsets: [Int] = []  // byte offset of each code point, then the end
        codePoints.reserveCapacity(text.count)
        offsets.reserveCapacity(text.count + 1)
        var index = text.startIndex
        while index < text.endIndex {
            let (value, length) = LlamaUTF8.decode(text, at: index)
            codePoints.append(value)
            offsets.append(index)
            index += length
        }
        offsets.append(text.endIndex)
        let classes = codePoints.map(CodepointClass.of)
        var word: [UInt8] = []
        for range in preTokenizer.split(codePoints, classes: classes) {
            word.removeAll(keepingCapacity: true)
            for byte in text[offsets[range.lowerBound] ..< offsets[range.upperBound]] {
                word.append(contentsOf: ByteLevelAlphabet.encoded[Int(byte)])
            }
            if preTokenizer.ignoreMerges, let token = vocabulary.tokens.id(of: word), vocabulary.contains(token) {
                output.append(token)
                continue
            }
            session.tokenize(word, merges: merges, vocabulary: vocabulary, into: &output)
        }
    }
}

/// The working state of one word's merges (llm_tokenizer_bpe_session), reused across words.
struct BytePairSession {
    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
        var id: Int32
    }

    private struct Bigram: HeapElement {
        let left: Int
        let right: Int
        let rank: Int32
        let size: Int
        let result: Int32

        /// Lower rank first, then the leftmost pair.
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.left < b.left
        }
    }

    private var symbols: [Symbol] = []
    private var queue = BinaryHeap<Bigram>()

    mutating func tokenize(_ word: [UInt8], merges: BytePairMerges, vocabulary: Vocabulary, into output: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        queue.removeAll()
        word.withUnsafeBytes { word in
            var offset = 0
            while offset < word.count {
                let length = min(SentencePieceSession.sequenceLength(word[offset]), word.count - offset)
                let id = merges.symbols.id(of: UnsafeRawBufferPointer(rebasing: word[offset ..< offset + length])) ?? -1
                symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1,
                                      next: offset + length == word.count ? -1 : symbols.count + 1, id: id))
                offset += length
            }
            for index in symbols.indices.dropFirst() { addBigram(index - 1, index, merges) }
            while let bigram = queue.pop() {
                let (left, right) = (symbols[bigram.left], symbols[bigram.right])
                guard left.length > 0, right.length > 0, left.length + right.length == bigram.size else { continue }
                symbols[bigram.left].length += right.length
                symbols[bigram.left].id = bigram.result
                symbols[bigram.right].length = 0
                symbols[bigram.left].next = right.next
                if right.next >= 0 { symbols[right.next].previous = bigram.left }
                addBigram(left.previous, bigram.left, merges)
                addBigram(bigram.left, right.next, merges)
            }
            for symbol in symbols where symbol.length > 0 {
                if vocabulary.contains(symbol.id) {
                    output.append(symbol.id)
                    continue
                }
                // Not a token: each byte of the spelled text that is a token on its own (llama.cpp's fallback).
                for byte in word[symbol.start ..< symbol.start + symbol.length] {
                    if let token = vocabulary.token(forText: [byte]) { output.append(token) }
                }
            }
        }
    }

    private mutating func addBigram(_ left: Int, _ right: Int, _ merges: BytePairMerges) {
        guard left >= 0, right >= 0, let merge = merges.merge(symbols[left].id, symbols[right].id) else { return }
        queue.push(Bigram(left: left, right: right, rank: merge.rank,
                          size: symbols[left].length + symbols[right].length, result: merge.result))
    }
}
