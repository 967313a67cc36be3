import FoundationEssentials

/// Golden tokenizer data written by Golden/make_tokenizer_golden.py from llama.cpp (llama-cpp-python).
struct TokenizerGolden: Decodable {
    struct Case: Decodable {
        let text: String
        let add0_parse0: [Int32]
        let add0_parse1: [Int32]
        let add1_parse0: [Int32]
        let add1_parse1: [Int32]
        /// llama_detokenize(add0_parse1, remove_special: false, unparse_special: false), hex.
        let decoded: String
        /// The same with unparse_special: true, hex.
        let decoded_special: String
    }

    struct Piece: Decodable {
        let id: Int32
        let attr: UInt32
        let piece: String
        let piece_special: String
    }

    let name: String
    let n_tokens: Int
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let add_bos: Bool
    let add_eos: Bool
    let eog: [Int32]
    let cases: [Case]
    let pieces: [Piece]

    /// Golden/tokenizer-<name>.json.
    static func load(_ name: String) throws -> TokenizerGolden {
        let text = Fixtures.read("Tests/HostCoreTests/Golden/tokenizer-\(name).json")
        return try JSONDecoder().decode(TokenizerGolden.self, from: Data(text.utf8))
    }

    /// Bytes from lowercase hex.
    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
    }
}
