/// Turns generated token ids into text one token at a time, never splitting a UTF-8 character: bytes of a
/// character that is still incomplete (an emoji spread over byte-fallback tokens, a CJK character split by BPE)
/// are held back until the character completes. The concatenation of everything returned equals decoding all the
/// bytes at once.
///
/// The tokenizer stays outside: the caller provides each token's bytes, already decoded by the tokenizer's rules
/// (SentencePiece "▁" as a space, `<0xNN>` byte-fallback tokens as that byte, GPT-2 byte-level characters mapped
/// back to bytes; an empty array for control tokens that should not show).
public struct IncrementalDetokenizer: Sendable {
    /// The bytes one token stands for.
    public typealias PieceBytes = @Sendable (Int32) -> [UInt8]

    /// What to do with a space at the very start of the text.
    public enum LeadingSpace: Sendable {
        /// Keep it.
        case keep
        /// Drop one leading space, as SentencePiece decoding does for the "▁" it prepends to the first word
        /// (Hugging Face's `Strip(" ", 1, 0)` decoder; llama.cpp's `remove_space_prefix`). Use it when decoding a
        /// sequence from its start.
        case stripOne
    }

    private let piece: PieceBytes
    private var leadingSpace: LeadingSpace
    /// Bytes of an incomplete character at the end of what was fed.
    private var pending: [UInt8] = []

    /// A detokenizer that gets each token's bytes from `piece`.
    public init(leadingSpace: LeadingSpace = .keep, piece: @escaping PieceBytes) {
        self.piece = piece
        self.leadingSpace = leadingSpace
    }

    /// Adds one token; returns the text it completes (possibly empty).
    public mutating func feed(_ token: Int32) -> String {
        feed(bytes: piece(token))
    }

    /// Adds several tokens; returns the text they complete.
    public mutating func feed(_ tokens: some Sequence<Int32>) -> String {
        var text = ""
        for token in tokens { text += feed(token) }
        return text
    }

    /// Adds raw bytes; returns the text they complete.
    public mutating func feed(bytes: [UInt8]) -> String {
        pending += bytes
        if leadingSpace == .stripOne, let first = pending.first {
            if first == 0x20 { pending.removeFirst() }
            leadingSpace = .keep
        }
        let cut = Self.completePrefix(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Ends the sequence: returns what was held back, with U+FFFD for a character the sequence cut short.
    public mutating func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes of an incomplete character are held back.
    public var isHoldingBack: Bool { !pending.isEmpty }

    /// How many leading bytes can be decoded now: all of them, except a trailing sequence that is a valid but
    /// incomplete UTF-8 character (invalid bytes are released at once; decoding turns them into U+FFFD).
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        var start = bytes.count - 1
        while start >= 0, bytes.count - start <= 3, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return bytes.count }
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return bytes.count
        }
        let tail = bytes[(start + 1)...]
        guard tail.count < length - 1 else { return bytes.count }
        // The second byte of some leads has a narrower range (no overlongs, no surrogates, nothing past U+10FFFF).
        if let second = tail.first {
            let allowed: ClosedRange<UInt8> = switch lead {
            case 0xE0: 0xA0...0xBF
            case 0xED: 0x80...0x9F
            case 0xF0: 0x90...0xBF
            case 0xF4: 0x80...0x8F
            default: 0x80...0xBF
            }
            guard allowed.contains(second) else { return bytes.count }
        }
        return start
    }
}
