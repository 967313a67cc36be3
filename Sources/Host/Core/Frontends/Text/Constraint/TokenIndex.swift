import Synchronization

/// The tries and token classes a vocabulary's grammars share (see `TokenTrie`), cached by vocabulary content.
final class TokenIndex: Sendable {
    /// The number of token ids (mask bits).
    let vocabularySize: Int
    /// Every text token.
    let all: TokenTrie
    /// Text tokens that are not plain string content: the only ones a string walk has to look at.
    let irregular: TokenTrie
    /// Bitset of the tokens that are plain string content (`StringLexer.isPlainContent`).
    let plainString: [UInt32]
    /// Each token's bytes, special tokens empty.
    let pieces: [[UInt8]]

    private init(vocabulary: Vocabulary) {
        vocabularySize = vocabulary.count
        pieces = (0..<vocabulary.count).map { Self.textPiece(of: Int32($0), in: vocabulary) }
        var plain = [UInt32](repeating: 0, count: (vocabulary.count + 31) / 32)
        var irregularPieces: [(token: Int32, bytes: [UInt8])] = []
        for (token, piece) in pieces.enumerated() where !piece.isEmpty {
            if StringLexer.isPlainContent(piece) {
                plain[token / 32] |= 1 << UInt32(token % 32)
            } else {
                irregularPieces.append((Int32(token), piece))
            }
        }
        plainString = plain
        all = TokenTrie(pieces.enumerated().map { (Int32($0.offset), $0.element) })
        irregular = TokenTrie(irregularPieces)
    }

    /// The bytes `token` may contribute to JSON output: its piece, or nothing for special tokens. Control,
    /// unknown and unused tokens have an empty piece already; user-defined tokens that are markup-like markers
    /// (Gemma 3's `<start_of_image>`, `<table>`) are left out too, while user-defined whitespace runs stay.
    private static func textPiece(of token: Int32, in vocabulary: Vocabulary) -> [UInt8] {
        let piece = vocabulary.piece(token, special: false)
        if vocabulary.attributes(of: token).contains(.userDefined), piece.first == UInt8(ascii: "<"),
           piece.last == UInt8(ascii: ">") {
            return []
        }
        return piece
    }

    /// One vocabulary's slot in the cache: its own lock, so building one vocabulary's index never blocks
    /// grammars of another, and concurrent first uses of the same vocabulary wait for one build.
    private final class Slot: Sendable {
        let index = Mutex<TokenIndex?>(nil)
    }

    private static let cache = Mutex<[Fingerprint: Slot]>([:])

    /// The index of `vocabulary`, built on first use and kept for later grammars of the same vocabulary.
    static func shared(for vocabulary: Vocabulary) -> TokenIndex {
        let key = Fingerprint(vocabulary)
        let slot = cache.withLock { slots in
            if let slot = slots[key] { return slot }
            if slots.count >= 8 { slots.removeAll() }
            let slot = Slot()
            slots[key] = slot
            return slot
        }
        return slot.index.withLock { index in
            if let index { return index }
            let built = TokenIndex(vocabulary: vocabulary)
            index = built
            return built
        }
    }

    /// A vocabulary's identity by content: size, model and an FNV-1a hash of every token's stored text and
    /// attributes (vocabularies are values, so there is no object identity to key on).
    private struct Fingerprint: Hashable {
        let count: Int
        let hash: UInt64

        init(_ vocabulary: Vocabulary) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            for byte in vocabulary.model.rawValue.utf8 { mix(byte) }
            for token in 0..<vocabulary.count {
                for byte in vocabulary.tokens.bytes(token) { mix(byte) }  // a slice of the table: no copy
                mix(0xFF)
                mix(UInt8(truncatingIfNeeded: vocabulary.attributes[token].rawValue))
            }
            count = vocabulary.count
            self.hash = hash
        }
    }
}
