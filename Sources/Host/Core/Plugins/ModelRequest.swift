/// One request inside a loaded model: the plugin's px_request handle, the host's sink, and the C input the plugin
/// borrows until request_destroy.
public final class ModelRequest: @unchecked Sendable {
    public let id: UInt64
    public let sink: RequestSink
    public let input: RequestInput
    // SAFETY: handles are only passed back to the plugin that made them; `arena` outlives request_destroy.
    let handle: OpaquePointer
    let sinkHandle: OpaquePointer
    let arena: CArena
    unowned let model: LoadedModel
    var isDestroyed = false

    init(id: UInt64, sink: RequestSink, input: RequestInput, handle: OpaquePointer, sinkHandle: OpaquePointer,
         arena: CArena, model: LoadedModel) {
        self.id = id
        self.sink = sink
        self.input = input
        self.handle = handle
        self.sinkHandle = sinkHandle
        self.arena = arena
        self.model = model
    }
}
