/// Bounds on one render, so a template (they come with downloaded models) cannot hang or exhaust the server.
///
/// Work counts loop iterations, macro calls and the size of every string or list an expression builds; a template
/// that passes these limits finishes in well under a second.
public struct TemplateLimits: Sendable, Equatable {
    /// Most bytes of rendered output.
    public var maxOutputBytes: Int
    /// Most units of work (see above) per render.
    public var maxWork: Int
    /// Deepest chain of macro calls (recursion).
    public var maxCallDepth: Int
    /// Longest `range()` (jinja2's sandbox allows 100,000).
    public var maxRange: Int

    public init(maxOutputBytes: Int = 8 << 20, maxWork: Int = 50_000_000, maxCallDepth: Int = 24, maxRange: Int = 100_000) {
        self.maxOutputBytes = maxOutputBytes
        self.maxWork = maxWork
        self.maxCallDepth = maxCallDepth
        self.maxRange = maxRange
    }

    /// The limits a chat template renders under unless the caller says otherwise.
    public static let standard = TemplateLimits()
}
