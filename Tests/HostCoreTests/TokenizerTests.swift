import Glibc
import Testing
@testable import HostCore

/// Both tokenizers, token for token against llama.cpp (golden files from Golden/make_tokenizer_golden.py).
@Suite struct TokenizerTests {
    @Test func smolLM2MatchesLlamaCpp() throws {
        let tokenizer = try TokenizerLoader.load(from: ModelFiles.open(ModelFiles.smolLM2))
        #expect(tokenizer is BytePairTokenizer)
        #expect(tokenizer.vocabulary.preTokenizer?.kind == .smollm)
        try expectGolden(tokenizer, TokenizerGolden.load("smollm2"))
    }

    @Test func gemma3MatchesLlamaCpp() throws {
        let tokenizer = try TokenizerLoader.load(from: ModelFiles.open(ModelFiles.gemma3))
        #expect(tokenizer is SentencePieceTokenizer)
        try expectGolden(tokenizer, TokenizerGolden.load("gemma3"))
    }

    /// The other pre-tokenizers, on SmolLM2's vocabulary and merges with tokenizer.ggml.pre replaced (the golden
    /// script makes the same files for llama.cpp).
    @Test(arguments: ["gpt-2", "llama3", "qwen2", "default"])
    func preTokenizerMatchesLlamaCpp(pre: String) throws {
        var metadata = try ModelFiles.open(ModelFiles.smolLM2).metadata
        metadata["tokenizer.ggml.pre"] = .string(pre)
        let tokenizer = try TokenizerLoader.load(metadata: metadata)
        #expect(tokenizer.vocabulary.preTokenizer?.name == pre)
        try expectGolden(tokenizer, TokenizerGolden.load("smollm2-pre-\(pre)"))
    }

    /// SentencePiece's space prefix (off in Gemma 3's file): a space before the text and after each special token.
    @Test func spacePrefixMatchesLlamaCpp() throws {
        var metadata = try ModelFiles.open(ModelFiles.gemma3).metadata
        metadata["tokenizer.ggml.add_space_prefix"] = .bool(true)
        let tokenizer = try TokenizerLoader.load(metadata: metadata)
        #expect(tokenizer.vocabulary.addsSpacePrefix)
        try expectGolden(tokenizer, TokenizerGolden.load("gemma3-space-prefix"))
    }

    @Test func specialTokensOfTheRealModels() throws {
        let smol = try TokenizerLoader.load(from: ModelFiles.open(ModelFiles.smolLM2))
        #expect(smol.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: true, parseSpecial: true) == [1, 4093, 198, 6004, 2])
        #expect(smol.vocabulary.attributes(of: 2) == .control)
        #expect(smol.vocabulary.addsBOS == false)
        let gemma = try TokenizerLoader.load(from: ModelFiles.open(ModelFiles.gemma3))
        #expect(gemma.encode("<start_of_turn>user\nhi<end_of_turn>", addSpecial: true, parseSpecial: true)
                == [2, 105, 2364, 107, 2202, 106])
        #expect(gemma.bos == 2 && gemma.eos == 1 && gemma.eot == 106)
        #expect(gemma.isEndOfGeneration(106) && gemma.isEndOfGeneration(1) && !gemma.isEndOfGeneration(105))
        // Gemma 3's </s> is an HTML-like user-defined token that llama.cpp also treats as end of generation.
        #expect(gemma.vocabulary.attributes(of: 212) == [.control, .userDefined])
        #expect(gemma.vocabulary.attributes(of: 6).contains(.unused))
        #expect(gemma.encode("<0x0A>", addSpecial: false, parseSpecial: true) == [236820, 236771, 236781, 236771, 236776, 236813])
        #expect(gemma.decode(gemma.encode("a▁b", addSpecial: false, parseSpecial: false), special: false) == Array("a b".utf8))
    }

    /// Random text (ASCII, Latin, CJK, emoji, controls, fragments of special tokens) decodes back to itself when
    /// special tokens are not parsed: nothing is lost, nothing crashes. (A literal ▁ is left out: SentencePiece
    /// decodes it as a space, in llama.cpp too.)
    @Test(arguments: [ModelFiles.smolLM2, ModelFiles.gemma3])
    func roundTripsRandomText(model: String) throws {
        let tokenizer = try TokenizerLoader.load(from: ModelFiles.open(model))
        var generator = SplitMix64(seed: 42)
        let pieces = ["<|im_start|>", "<end_of_turn>", "</s>", "<0x0A>", "  ", "\n\n", "\t", "'s", "123", "é", "😀",
                      "日本", "\u{0}", "\u{7F}", "\u{85}", "\u{2028}", "\u{FFFD}", "\u{10FFFF}", "\u{1C89}", " "]
        for _ in 0..<150 {
            var text = ""
            for _ in 0 ..< Int(generator.next() % 24) {
                if generator.next() % 3 == 0 {
                    text += pieces[Int(generator.next() % UInt64(pieces.count))]
                } else if let scalar = Unicode.Scalar(UInt32(generator.next() % 0x3_0000)) {
                    text.unicodeScalars.append(scalar)
                }
            }
            let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            #expect(tokenizer.decode(tokens, special: false) == Array(text.utf8), "\(text.unicodeScalars.map(\.value))")
        }
    }

    @Test func refusesUnsupportedVocabularies() throws {
        var metadata = try ModelFiles.open(ModelFiles.smolLM2).metadata
        metadata["tokenizer.ggml.pre"] = .string("deepseek-coder")
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: metadata) }
        metadata["tokenizer.ggml.model"] = .string("bert")
        do {
            _ = try TokenizerLoader.load(metadata: metadata)
            Issue.record("accepted a bert vocabulary")
        } catch {
            #expect(error.message.contains("tokenizer.ggml.model 'bert' is not supported"))
        }
        metadata["tokenizer.ggml.model"] = nil
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: metadata) }
        metadata["tokenizer.ggml.model"] = .string("gpt2")
        metadata["tokenizer.ggml.pre"] = .string("smollm")
        metadata["tokenizer.ggml.merges"] = nil
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: metadata) }
    }

    @Test func refusesMalformedVocabularies() throws {
        func metadata(_ pairs: [(String, GGUFBuilder.Value)]) throws -> GGUFMetadata {
            var builder = GGUFBuilder()
            builder.metadata = pairs
            return try GGUFFile(bytes: builder.bytes()).metadata
        }
        let tokens: GGUFBuilder.Value = .array(8, [.string("a"), .string("b"), .string("ab")])
        let good = try metadata([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", tokens),
                                 ("tokenizer.ggml.scores", .array(6, [.float32(0), .float32(0), .float32(1)])),
                                 ("tokenizer.ggml.add_bos_token", .bool(false)),
                                 ("tokenizer.ggml.add_space_prefix", .bool(false))])
        let spm = try TokenizerLoader.load(metadata: good)
        #expect(spm.encode("ab", addSpecial: true, parseSpecial: false) == [2])
        // Without byte tokens, an unknown character falls back to <unk> (default id 0).
        #expect(spm.encode("abc", addSpecial: true, parseSpecial: false) == [2, 0])
        var bad = good
        bad["tokenizer.ggml.tokens"] = try metadata([("t", .array(8, [.string("a"), .string("a")]))])["t"]
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: bad) }
        bad = good
        bad["tokenizer.ggml.scores"] = try metadata([("t", .array(6, [.float32(0)]))])["t"]
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: bad) }
        bad = good
        bad["tokenizer.ggml.tokens"] = .string("a")
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: bad) }
        bad = good
        bad["tokenizer.ggml.add_bos_token"] = .uint8(1)
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(metadata: bad) }
    }

    @Test func decodesWithLlamaCppSpaceCleanup() {
        let cleaned = Vocabulary.cleanedSpaces(Array("Hello , world ! it 's a ' test ' they 're here .".utf8))
        #expect(String(decoding: cleaned, as: UTF8.self) == "Hello, world! it's a'test'they're here.")
    }

    /// Time to open and build each tokenizer, and encode throughput on prose (printed for the record; the bound
    /// is loose because tests run unoptimized).
    @Test func buildTimeAndThroughput() throws {
        for name in [ModelFiles.smolLM2, ModelFiles.gemma3] {
            let start = Self.now()
            let file = try ModelFiles.open(name)
            let opened = Self.now() - start
            let tokenizer = try TokenizerLoader.load(from: file)
            let built = Self.now() - start
            let text = String(repeating: "The quick brown fox jumps over the lazy dog; it's 100% sure, isn't it? ", count: 400)
            let encodeStart = Self.now()
            let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            let seconds = Self.now() - encodeStart
            print("\(name): open \(FixedPoint.format(opened * 1000, 1)) ms, open + build \(FixedPoint.format(built * 1000, 1)) ms; encode \(tokens.count) tokens in "
                  + "\(FixedPoint.format(seconds * 1000, 1)) ms = \(Int(Double(tokens.count) / seconds)) tokens/s")
            #expect(built < 5, "building the \(name) tokenizer took \(built) s")
        }
    }

    // MARK: - Helpers

    private func expectGolden(_ tokenizer: any Tokenizer, _ golden: TokenizerGolden,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let vocabulary = tokenizer.vocabulary
        #expect(vocabulary.count == golden.n_tokens, sourceLocation: sourceLocation)
        #expect(vocabulary.bos == golden.bos && vocabulary.eos == golden.eos && vocabulary.eot == golden.eot,
                sourceLocation: sourceLocation)
        #expect(vocabulary.addsBOS == golden.add_bos && vocabulary.addsEOS == golden.add_eos, sourceLocation: sourceLocation)
        #expect(vocabulary.endOfGeneration.sorted() == golden.eog, sourceLocation: sourceLocation)
        var failures = 0
        for testCase in golden.cases {
            let modes = [(false, false, testCase.add0_parse0), (false, true, testCase.add0_parse1),
                         (true, false, testCase.add1_parse0), (true, true, testCase.add1_parse1)]
            for (addSpecial, parseSpecial, expected) in modes {
                let ids = tokenizer.encode(testCase.text, addSpecial: addSpecial, parseSpecial: parseSpecial)
                if ids != expected {
                    failures += 1
                    let message = "\(golden.name) add=\(addSpecial) parse=\(parseSpecial) '\(testCase.text.prefix(80))': "
                        + "\(ids.prefix(40)) != \(expected.prefix(40))"
                    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
                }
            }
            let decoded = tokenizer.decode(testCase.add0_parse1, special: false)
            let decodedSpecial = tokenizer.decode(testCase.add0_parse1, special: true)
            #expect(decoded == TokenizerGolden.bytes(hex: testCase.decoded), "decode '\(testCase.text.prefix(80))'",
                    sourceLocation: sourceLocation)
            #expect(decodedSpecial == TokenizerGolden.bytes(hex: testCase.decoded_special),
                    "decode special '\(testCase.text.prefix(80))'", sourceLocation: sourceLocation)
        }
        for piece in golden.pieces {
            #expect(vocabulary.attributes(of: piece.id).rawValue == piece.attr, "attributes of \(piece.id)",
                    sourceLocation: sourceLocation)
            #expect(tokenizer.piece(piece.id, special: false) == TokenizerGolden.bytes(hex: piece.piece),
                    "piece \(piece.id)", sourceLocation: sourceLocation)
            #expect(tokenizer.piece(piece.id, special: true) == TokenizerGolden.bytes(hex: piece.piece_special),
                    "special piece \(piece.id)", sourceLocation: sourceLocation)
        }
        print("\(golden.name): \(golden.cases.count) texts x 4 modes, \(golden.cases.count * 4 - failures) encodings match, "
              + "\(golden.pieces.count) pieces checked")
    }

    /// A small deterministic generator for the random texts.
    struct SplitMix64 {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
