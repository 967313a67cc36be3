/// Finds stop strings in streamed text, across token boundaries, and decides what may be sent.
///
/// The result is defined by the whole text: the output is the text up to (not including) the earliest place any
/// stop string occurs, as OpenAI truncates. Streamed, text is released only once it can no longer be part of a
/// stop string: a tail that could still grow into one (or into an earlier-starting one than a stop already found)
/// is held back, so the pieces sent add up to exactly that truncated text however the text was chunked.
public struct StopStringMatcher: Sendable {
    /// What one call releases.
    public struct Output: Equatable, Sendable {
        /// Text safe to send now.
        public var text: String
        /// The stop string that ended the text, once one has; nothing after it is ever released.
        public var stop: String?

        /// Text to send, and the stop string if one ended the text.
        public init(text: String, stop: String? = nil) {
            self.text = text
            self.stop = stop
        }
    }

    private let stops: [[UInt8]]
    /// Text received but not yet released (at most as long as the longest stop string, minus one).
    private var held: [UInt8] = []
    /// The stop string that matched, once one has.
    public private(set) var matched: String?

    /// A matcher for these stop strings (empty strings are ignored).
    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// Whether a stop string has ended the text.
    public var isStopped: Bool { matched != nil }

    /// Adds generated text; returns what may be sent, and the stop string if one now ends the text.
    public mutating func feed(_ text: String) -> Output {
        guard matched == nil else { return Output(text: "", stop: matched) }
        held += text.utf8
        return release(final: false)
    }

    /// Ends generation (end of sequence or length limit): releases the text still held back.
    public mutating func finish() -> Output {
        guard matched == nil else { return Output(text: "", stop: matched) }
        return release(final: true)
    }

    /// Releases everything before the earliest position that is a complete stop match or (unless `final`) could
    /// still become one.
    private mutating func release(final: Bool) -> Output {
        for start in held.indices {
            let rest = held[start...]
            if let stop = stops.first(where: { rest.starts(with: $0) }) {
                let text = String(decoding: held[..<start], as: UTF8.self)
                matched = String(decoding: stop, as: UTF8.self)
                held = []
                return Output(text: text, stop: matched)
            }
            if !final, stops.contains(where: { $0.count > rest.count && $0.starts(with: rest) }) {
                let text = String(decoding: held[..<start], as: UTF8.self)
                held.removeFirst(start)
                return Output(text: text)
            }
        }
        defer { held = [] }
        return Output(text: String(decoding: held, as: UTF8.self))
    }
}
