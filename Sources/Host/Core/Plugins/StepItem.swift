import PluginABI

/// One request's share of a step, as the scheduler plans it (px_step_item without the C).
public struct StepItem {
    public var request: ModelRequest
    /// PX_ITEM_* flags.
    public var flags: UInt32 = 0
    /// Position of tokens[0].
    public var pos: UInt32 = 0
    /// [n_tokens] prompt chunk or the one token to decode.
    public var tokens: [Int32] = []
    /// Pages covering positions [0, pos + n_tokens).
    public var kvPages: [UInt32] = []
    /// Bitset over the vocabulary of tokens the sample may take, or nil for all.
    public var allowed: [UInt32]?
    /// Denoise steps (or slices) for image and video models.
    public var units: UInt32 = 0

    public init(request: ModelRequest) { self.request = request }

    /// Lays the item out in C, its arrays in `arena` (which lives until step_finish returns).
    func cStruct(in arena: CArena) -> px_step_item {
        var c = px_step_item()
        c.header = px_header(size: UInt32(MemoryLayout<px_step_item>.size), version: 1)
        c.request = request.handle
        c.sink = request.sinkHandle
        c.flags = flags
        c.pos = pos
        c.n_tokens = UInt32(tokens.count)
        c.tokens = UnsafePointer(arena.array(tokens))
        c.n_kv_pages = UInt32(kvPages.count)
        c.kv_pages = UnsafePointer(arena.array(kvPages))
        c.allowed = allowed.flatMap { UnsafePointer(arena.array($0)) }
        c.units = units
        return c
    }
}
