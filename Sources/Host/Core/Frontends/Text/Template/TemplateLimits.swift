/// Bounds on one render, so a template (they come with downloaded models) cannot hang or exhaust the server.
///
/// Work counts loop iterations, macro calls and the size of every string or list an expression builds (a string
/// of n bytes costs n/16 units). A heavy real render (Llama 3.1's template over 2,000 messages of 2.4 KB and 200
/// tools) needs about 0.7 million units and 11 ms; a runaway loop is stopped at the default 4 million units, about
/// half a second of one core (release build, 2024 server core).
public struct TemplateLimits: Sendable, Equatable {
    /// Most bytes of rendered output.
    public var maxOutputBytes: Int
    /// Most units of work (see above) per render.
    public var maxWork: Int
    /// Deepest chain of macro calls (recursion).
    public var maxCallDepth: Int
    /// Longest `range()` (jinja2's sandbox allows 100,000).
    public var maxRange: Int
    /// Deepest nesting of lists and dicts a namespace attribute or macro argument may hold.
    public var maxValueDepth: Int

    /// Limits; the defaults suit chat templates.
    public init(maxOutputBytes: Int = 8 << 20, maxWork: Int = 4_000_000, maxCallDepth: Int = 24, maxRange: Int = 100_000,
                maxValueDepth: Int = 64) {
        self.maxOutputBytes = maxOutputBytes
        self.maxWork = maxWork
        self.maxCallDepth = maxCallDepth
        self.maxRange = maxRange
        self.maxValueDepth = maxValueDepth
    }

    /// The limits a chat template renders under unless the caller says otherwise.
    public static let standard = TemplateLimits()
}
