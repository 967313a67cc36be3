/// Python's string operations (`str.strip`, `split`, `replace`, `find`, ...), exact to Python's semantics over
/// code points. Searching works on UTF-8 bytes (for valid UTF-8 a byte match is a code-point match) and stripping
/// walks scalar indices, so long message contents are not decoded into arrays.
enum TextOps {
    /// A string made of these scalars.
    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.strip(chars)` / `lstrip` / `rstrip`: whitespace when `chars` is nil.
    static func strip(_ text: String, _ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let remove: (Unicode.Scalar) -> Bool = set.map { set in { set.contains($0) } } ?? TemplateLexer.isSpace
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        if leading { while start < end, remove(scalars[start]) { start = scalars.index(after: start) } }
        if trailing {
            while end > start {
                let previous = scalars.index(before: end)
                guard remove(scalars[previous]) else { break }
                end = previous
            }
        }
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    /// Byte offsets where `needle` starts in `text`, left to right; non-overlapping unless asked.
    static func occurrences(of needle: [UInt8], in text: [UInt8], overlapping: Bool = false) -> [Int] {
        guard !needle.isEmpty else { return startsOfScalars(text) + [text.count] }
        var found: [Int] = []
        var index = 0
        while let hit = find(needle, in: text, from: index) {
            found.append(hit)
            index = hit + (overlapping ? 1 : needle.count)
        }
        return found
    }

    /// The first byte offset at or after `start` where `needle` occurs in `text`.
    static func find(_ needle: [UInt8], in text: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start <= text.count ? start : nil }
        guard needle.count <= text.count else { return nil }
        let first = needle[0]
        var index = start
        let last = text.count - needle.count
        while index <= last {
            if text[index] == first, text[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Whether `needle` occurs in `text` (Python's `in` on strings).
    static func contains(_ needle: String, in text: String) -> Bool {
        needle.isEmpty || find(Array(needle.utf8), in: Array(text.utf8), from: 0) != nil
    }

    /// The code-point index of a byte offset (Python's `find` answers in code points).
    static func scalarIndex(ofByte offset: Int, in bytes: [UInt8]) -> Int {
        bytes[..<offset].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// `str.find` / `str.rfind`: the code-point index of the first or last occurrence, or -1.
    static func find(_ needle: String, in text: String, last: Bool) -> Int {
        let bytes = Array(text.utf8)
        let hits = occurrences(of: Array(needle.utf8), in: bytes, overlapping: true)
        guard let hit = last ? hits.last : hits.first else { return -1 }
        return scalarIndex(ofByte: hit, in: bytes)
    }

    /// `str.count(sub)`: non-overlapping occurrences.
    static func count(_ needle: String, in text: String) -> Int {
        needle.isEmpty ? text.unicodeScalars.count + 1 : occurrences(of: Array(needle.utf8), in: Array(text.utf8)).count
    }

    /// `str.split(sep, maxsplit)` / `str.rsplit(...)`; a nil separator splits on runs of whitespace.
    static func split(_ text: String, separator: String?, maxSplit: Int, fromRight: Bool) -> [String] {
        guard let separator else { return splitOnSpace(text, maxSplit: maxSplit, fromRight: fromRight) }
        let bytes = Array(text.utf8), needle = Array(separator.utf8)
        var hits = occurrences(of: needle, in: bytes)
        if maxSplit >= 0, hits.count > maxSplit {
            hits = fromRight ? rightmost(needle, in: bytes, count: maxSplit) : Array(hits.prefix(maxSplit))
        }
        var parts: [String] = []
        var start = 0
        for hit in hits {
            parts.append(String(decoding: bytes[start..<hit], as: UTF8.self))
            start = hit + needle.count
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// The last `count` non-overlapping occurrences, found from the right as Python's rsplit does.
    private static func rightmost(_ needle: [UInt8], in bytes: [UInt8], count: Int) -> [Int] {
        var hits: [Int] = []
        var end = bytes.count
        while hits.count < count, end >= needle.count {
            var index = end - needle.count
            while index >= 0, !bytes[index..<(index + needle.count)].elementsEqual(needle) { index -= 1 }
            guard index >= 0 else { break }
            hits.insert(index, at: 0)
            end = index
        }
        return hits
    }

    private static func splitOnSpace(_ text: String, maxSplit: Int, fromRight: Bool) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let ordered = fromRight ? Array(scalars.reversed()) : scalars
        var parts: [ArraySlice<Unicode.Scalar>] = []
        var index = 0
        while true {
            while index < ordered.count, TemplateLexer.isSpace(ordered[index]) { index += 1 }
            guard index < ordered.count else { break }
            if maxSplit >= 0, parts.count == maxSplit {
                parts.append(ordered[index...])
                break
            }
            let start = index
            while index < ordered.count, !TemplateLexer.isSpace(ordered[index]) { index += 1 }
            parts.append(ordered[start..<index])
        }
        return fromRight ? parts.reversed().map { string($0.reversed()) } : parts.map { string($0) }
    }

    /// `str.splitlines()` without keepends.
    static func splitLines(_ text: String) -> [String] {
        let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
        let scalars = text.unicodeScalars
        var lines: [String] = []
        var start = scalars.startIndex, index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            var next = scalars.index(after: index)
            if breaks.contains(scalar.value) {
                lines.append(String(scalars[start..<index]))
                if scalar == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                start = next
            }
            index = next
        }
        if start < scalars.endIndex { lines.append(String(scalars[start...])) }
        return lines
    }

    /// `str.replace(old, new, count)`; an empty `old` inserts `new` between code points, as in Python.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        let bytes = Array(text.utf8), needle = Array(old.utf8), replacement = Array(new.utf8)
        var hits = occurrences(of: needle, in: bytes)
        if count >= 0 { hits = Array(hits.prefix(count)) }
        guard !hits.isEmpty else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + hits.count * replacement.count)
        var start = 0
        for hit in hits {
            result += bytes[start..<hit]
            result += replacement
            start = hit + needle.count
        }
        result += bytes[start...]
        return String(decoding: result, as: UTF8.self)
    }

    /// Byte offsets where each code point of valid UTF-8 starts.
    private static func startsOfScalars(_ bytes: [UInt8]) -> [Int] {
        bytes.indices.filter { bytes[$0] & 0xC0 != 0x80 }
    }

    /// Python's `str.title()`: a cased character after an uncased one is titlecased, others lowercased.
    static func pythonTitle(_ text: String) -> String {
        var out = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            out += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = scalar.properties.isCased
        }
        return out
    }

    /// Python's `str.capitalize()`: the first character titlecased, the rest lowercased.
    static func capitalize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return "" }
        return first.properties.titlecaseMapping + String(text.unicodeScalars.dropFirst()).lowercased()
    }
}
