import HostCore
import NIOCore
import NIOHTTP1

/// The channel type of one accepted connection: HTTP/1.1 parts in, response parts out.
typealias HTTPChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// Serves the requests of one connection, one after another: reads a head and its body (within the limit),
/// asks the dispatcher for a response, writes it, and keeps the connection for the next request when both
/// sides want keep-alive.
struct HTTPConnection {
    let channel: HTTPChannel
    let dispatcher: RequestDispatcher
    let registry: ConnectionRegistry

    private typealias Parts = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    private typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    func run() async {
        let metrics = dispatcher.metrics
        metrics.connectionOpened()
        defer { metrics.connectionClosed() }
        let cancellation = CancellationSet()
        channel.channel.closeFuture.whenComplete { _ in cancellation.cancelAll() }
        guard let id = registry.register(channel.channel) else {
            channel.channel.close(promise: nil)
            return
        }
        defer { registry.remove(id) }
        try? await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            while let head = try await nextHead(&parts) {
                guard registry.beginRequest(id) else { return }
                let keepAlive = try await serve(head, parts: &parts, outbound: outbound, cancellation: cancellation)
                cancellation.requestFinished()
                guard registry.endRequest(id), keepAlive else { return }
            }
        }
    }

    private func nextHead(_ parts: inout Parts) async throws -> HTTPRequestHead? {
        while let part = try await parts.next() {
            if case .head(let head) = part { return head }
        }
        return nil
    }

    /// Serves one request; returns whether the connection stays open.
    private func serve(_ head: HTTPRequestHead, parts: inout Parts, outbound: Outbound,
                       cancellation: CancellationSet) async throws -> Bool {
        let limit = dispatcher.configuration.maxBodyBytes
        let declared = head.headers.first(name: "Content-Length").flatMap { Int($0) }
        guard declared.map({ $0 <= limit }) ?? true else {
            // Reject before reading a byte of it; the unread body makes the connection unusable, so close.
            try await write(.error(.bodyTooLarge(limit: limit)), for: head, keepAlive: false, outbound: outbound,
                            cancellation: cancellation)
            return false
        }
        var body = ByteBuffer()
        reading: while true {
            switch try await parts.next() {
            case .body(var chunk):
                guard body.readableBytes + chunk.readableBytes <= limit else {
                    try await write(.error(.bodyTooLarge(limit: limit)), for: head, keepAlive: false,
                                    outbound: outbound, cancellation: cancellation)
                    return false
                }
                body.writeBuffer(&chunk)
            case .end:
                break reading
            case .head, nil:
                return false
            }
        }
        let request = APIRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        let response = await dispatcher.respond(to: request, cancellation: cancellation)
        let keepAlive = head.isKeepAlive && !registry.isDraining
        try await write(response, for: head, keepAlive: keepAlive, outbound: outbound, cancellation: cancellation)
        return keepAlive
    }

    private func write(_ response: APIResponse, for request: HTTPRequestHead, keepAlive: Bool, outbound: Outbound,
                       cancellation: CancellationSet) async throws {
        var headers = response.headers
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        defer {
            dispatcher.metrics.requestFinished(route: dispatcher.routeLabel(request), status: Int(response.status.code))
        }
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.readableBytes))
            let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(bytes)), .end(nil)])
        case .eventStream(let produce):
            let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
            try await outbound.write(.head(head))
            dispatcher.metrics.streamOpened()
            defer { dispatcher.metrics.streamClosed() }
            let writer = SSEWriter { buffer in
                do {
                    try await outbound.write(.body(.byteBuffer(buffer)))
                } catch {
                    cancellation.cancelAll()
                    throw error
                }
            }
            await produce(writer)
            try await outbound.write(.end(nil))
        }
    }
}
