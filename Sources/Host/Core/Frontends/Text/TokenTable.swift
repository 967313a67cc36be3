import Glibc

/// Token texts in one contiguous byte store, with an open-addressing hash index from text to id.
///
/// A vocabulary of 262,144 tokens costs one pass over its bytes and no allocation per token; look-ups take a byte
/// range of any buffer and compare bytes in place.
struct TokenTable: Sendable {
    private var storage: [UInt8] = []
    /// End of each token's bytes in `storage`; token i spans ends[i - 1] (or 0) ..< ends[i].
    private var ends: [Int] = []
    /// Hash slots holding token ids, -1 when empty; the count is a power of two, at most half full.
    private var slots: [Int32] = []

    /// The number of texts.
    var count: Int { ends.count }

    init(capacity: Int = 0) {
        ends.reserveCapacity(capacity)
        slots = [Int32](repeating: -1, count: Self.slotCount(for: capacity))
    }

    /// Appends `text` as the next id unless it is already present; returns the id it has (new or existing).
    @discardableResult
    mutating func insert(_ text: UnsafeRawBufferPointer) -> (id: Int32, inserted: Bool) {
        if let existing = id(of: text) { return (existing, false) }
        if (ends.count + 1) * 2 > slots.count { rehash(Self.slotCount(for: (ends.count + 1) * 2)) }
        storage.append(contentsOf: text)
        ends.append(storage.count)
        let id = Int32(ends.count - 1)
        place(id, hash: Self.hash(text))
        return (id, true)
    }

    /// The id of `text`, if present.
    func id(of text: UnsafeRawBufferPointer) -> Int32? {
        let mask = slots.count - 1
        guard mask > 0 else { return nil }
        var slot = Self.hash(text) & mask
        return storage.withUnsafeBytes { store in
            slots.withUnsafeBufferPointer { slots in
                while true {
                    let candidate = slots[slot]
                    if candidate < 0 { return nil }
                    let range = self.range(Int(candidate))
                    if range.count == text.count,
                       text.count == 0 || memcmp(store.baseAddress! + range.lowerBound, text.baseAddress!, text.count) == 0 {
                        return candidate
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// The id of `bytes`, if present.
    func id(of bytes: [UInt8]) -> Int32? { bytes.withUnsafeBytes { id(of: $0) } }

    /// The bytes of token `id`.
    func bytes(_ id: Int) -> ArraySlice<UInt8> { storage[range(id)] }

    /// Calls `body` with the bytes of token `id`; the buffer must not escape.
    func withBytes<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let range = range(id)
        return try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The byte range of token `id` in the store.
    private func range(_ id: Int) -> Range<Int> { (id == 0 ? 0 : ends[id - 1]) ..< ends[id] }

    private mutating func place(_ id: Int32, hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = id
    }

    private mutating func rehash(_ count: Int) {
        slots = [Int32](repeating: -1, count: count)
        for id in 0..<ends.count {
            let hash = storage.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[range(id)])) }
            place(Int32(id), hash: hash)
        }
    }

    private static func slotCount(for entries: Int) -> Int {
        var count = 16
        while count < entries * 2 { count <<= 1 }
        return count
    }

    /// FNV-1a, 64 bits: token texts are short, so a byte loop is as fast as anything wider.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }
}
