import NIOCore

/// Writes server-sent events: `data: <json>\n\n`, `: ping` comments and the final `data: [DONE]`.
/// Each write waits while the client is not reading (the channel is not writable), so a slow reader slows
/// the consumption of generation events instead of growing a buffer.
struct SSEWriter: Sendable {
    private let sink: @Sendable (ByteBuffer) async throws -> Void

    /// A writer over `sink`, which must apply back-pressure and throw once the client is gone.
    init(sink: @escaping @Sendable (ByteBuffer) async throws -> Void) {
        self.sink = sink
    }

    /// One `data:` event with `value` as JSON.
    func send<Value: Encodable>(_ value: Value) async throws {
        var buffer = ByteBuffer()
        buffer.writeString("data: ")
        buffer.writeBytes(WireJSON.encode(value))
        buffer.writeString("\n\n")
        try await sink(buffer)
    }

    /// A comment line, which clients ignore; keeps proxies and idle timers from closing a quiet stream.
    func comment(_ text: String) async throws {
        try await sink(ByteBuffer(string: ": \(text)\n\n"))
    }

    /// The stream's last event.
    func done() async throws {
        try await sink(ByteBuffer(string: "data: [DONE]\n\n"))
    }
}
