import HostCore

/// Turns the events of a request's generations into the stream chunks of one endpoint. It only sees
/// `.started`, `.text` and a `.finished` that has a wire reason; failures and cancellations are the pump's.
protocol ChunkBuilder {
    associatedtype Chunk: Encodable & Sendable

    /// The chunks that report `event` of choice `choice`.
    mutating func chunks(choice: Int, event: GenerationEvent) -> [Chunk]

    /// The chunks after every choice has finished (the usage chunk, when asked for).
    func closingChunks() -> [Chunk]
}
