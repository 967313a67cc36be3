/// Splits text into words before byte-level BPE runs on each word, exactly as llama.cpp's `unicode_regex_split`
/// does for the pre-tokenizer named by `tokenizer.ggml.pre`. Each regex of llama.cpp is a hand-written scanner
/// over code points here (no regex engine); a kind applies its passes in order, each pass splitting every piece
/// the previous one produced, with piece ends acting as end of text.
///
/// | kind     | `tokenizer.ggml.pre` names                          | llama.cpp regexes, in order                     |
/// |----------|-----------------------------------------------------|------------------------------------------------|
/// | gpt2     | gpt-2, phi-2, mpt, olmo, exaone4, trillion, ...      | GPT-2's                                        |
/// | smollm   | smollm, starcoder, refact, command-r, codeshell, ... | `\p{N}`, then GPT-2's                          |
/// | llama3   | llama3, llama-v3, llama-bpe, falcon3, dbrx, ...      | Llama 3's (`\p{N}{1,3}`, case-folded 's etc.)  |
/// | qwen2    | qwen2, stablelm2, deepseek-r1-qwen, megrez, ...      | Llama 3's with single digits                   |
/// | default  | default (and a missing name)                         | punctuation runs, GPT-2's, `\p{N}+`, `[0-9]{3}` |
public struct PreTokenizer: Sendable, Equatable {
    /// The splitting rules.
    public enum Kind: String, Sendable {
        case gpt2, smollm, llama3, qwen2
        case standard = "default"
    }

    /// The splitting rules.
    public let kind: Kind
    /// The `tokenizer.ggml.pre` name this was made from ("default" when the file names none).
    public let name: String
    /// Whether decoding tidies spaces before punctuation and contractions (llama.cpp's clean_spaces).
    let cleanSpaces: Bool
    /// Whether a word that is itself a token skips BPE (llama.cpp's ignore_merges; Llama 3 family).
    let ignoreMerges: Bool
    /// Whether the family adds BOS by default (overridden by `tokenizer.ggml.add_bos_token`).
    let addsBOS: Bool

    /// The pre-tokenizer named `name`, or nil if llama.cpp knows it under another regex this host lacks.
    public init?(name: String?) {
        let name = name ?? "default"
        guard let entry = Self.table[name] else { return nil }
        self.name = name
        kind = entry.kind
        cleanSpaces = entry.cleanSpaces
        ignoreMerges = entry.kind == .llama3 && !["dbrx", "smaug-bpe"].contains(name)
        addsBOS = ignoreMerges
    }

    /// The names this host supports, sorted (for error messages).
    public static var supportedNames: [String] { table.keys.sorted() }

    /// Word boundaries of `text` as ranges of code point indices. `classes[i]` is the class of `text[i]`.
    func split(_ text: [UInt32], classes: [CodepointClass]) -> [Range<Int>] {
        let scanner = PreTokenizerScanner(text: text, classes: classes)
        var pieces = [0 ..< text.count]
        switch kind {
        case .gpt2:
            pieces = scanner.apply(pieces, scanner.gpt2)
        case .smollm:
            pieces = scanner.apply(pieces, scanner.singleNumbers)
            pieces = scanner.apply(pieces, scanner.gpt2)
        case .llama3:
            pieces = scanner.apply(pieces) { scanner.llama3($0, maximumDigits: 3, into: &$1) }
        case .qwen2:
            pieces = scanner.apply(pieces) { scanner.llama3($0, maximumDigits: 1, into: &$1) }
        case .standard:
            pieces = scanner.apply(pieces, scanner.punctuationRuns)
            pieces = scanner.apply(pieces, scanner.gpt2)
            pieces = scanner.apply(pieces, scanner.numberRuns)
            pieces = scanner.apply(pieces, scanner.asciiDigitTriples)
        }
        return pieces
    }

    private struct Entry {
        let kind: Kind
        let cleanSpaces: Bool
    }

    /// llama.cpp's llama_vocab::impl::load, for the regexes implemented here (clean_spaces is true unless the
    /// name turns it off).
    private static let table: [String: Entry] = {
        var table: [String: Entry] = [:]
        func add(_ kind: Kind, clean: Bool, _ names: String...) {
            for name in names { table[name] = Entry(kind: kind, cleanSpaces: clean) }
        }
        add(.standard, clean: true, "default")
        add(.llama3, clean: true, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
            "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe")
        add(.gpt2, clean: true, "gpt-2", "phi-2", "gigachat", "a.x-4.0", "mellum", "modern-bert", "mpt", "olmo",
            "jais", "exaone4")
        add(.gpt2, clean: false, "trillion", "granite-docling")
        add(.smollm, clean: true, "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2")
        add(.smollm, clean: false, "smollm", "command-r")
        add(.qwen2, clean: true, "stablelm2", "megrez")
        add(.qwen2, clean: false, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open")
        return table
    }()
}
