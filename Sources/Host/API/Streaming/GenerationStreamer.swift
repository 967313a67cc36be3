import HostCore

/// Writes the generations of one request as an event stream: merges their events (back-pressured, in arrival
/// order), sends a `: ping` comment whenever `pingInterval` passes without one, converts events with the
/// endpoint's chunk builder, and ends with `data: [DONE]`. A failure becomes an error event and ends the
/// stream; a write that fails (the client left) cancels every generation of the request.
struct GenerationStreamer<Builder: ChunkBuilder>: Sendable where Builder: Sendable {
    var handles: [GenerationHandle]
    var builder: Builder
    var pingInterval: Duration

    private enum Item: Sendable {
        case event(choice: Int, GenerationEvent)
        case ping
    }

    func run(writer: SSEWriter) async {
        let funnel = EventFunnel<Item>(producers: handles.count)
        await withTaskGroup(of: Void.self) { group in
            for (choice, handle) in handles.enumerated() {
                group.addTask {
                    for await event in handle.events {
                        guard await funnel.send(.event(choice: choice, event)) else { break }
                    }
                    funnel.producerFinished()
                }
            }
            group.addTask { [pingInterval] in
                while (try? await Task.sleep(for: pingInterval)) != nil {
                    guard await funnel.send(.ping) else { return }
                }
            }
            let completed = await consume(funnel, writer: writer)
            funnel.close()
            if !completed { handles.forEach { $0.cancel() } }
            group.cancelAll()
        }
    }

    /// Writes until every generation has finished; false when the stream ended early (failure, write error).
    private func consume(_ funnel: EventFunnel<Item>, writer: SSEWriter) async -> Bool {
        var builder = self.builder
        do {
            while let item = await funnel.next() {
                switch item {
                case .ping:
                    try await writer.comment("ping")
                case .event(_, .failed(let error)):
                    try await writer.send(APIError(error).body)
                    return false
                case .event(_, .finished(.cancelled, _)):
                    continue  // no wire form; the client that cancelled is gone
                case .event(let choice, let event):
                    for chunk in builder.chunks(choice: choice, event: event) { try await writer.send(chunk) }
                }
            }
            for chunk in builder.closingChunks() { try await writer.send(chunk) }
            try await writer.done()
            return true
        } catch {
            return false
        }
    }
}
