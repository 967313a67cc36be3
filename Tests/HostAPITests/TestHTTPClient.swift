import FoundationEssentials
import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 client over a loopback TCP connection, with its own response parser (so the server is
/// checked against an independent reading of the protocol, not against NIO's own codec).
final class TestHTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0 == name.lowercased() }?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }

        func json<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(type, from: Data(body))
        }

        /// The `data:` payloads of an event stream, in order ([DONE] included), and whether a `: ping` came.
        var events: [String] {
            text.split(separator: "\n\n", omittingEmptySubsequences: true).compactMap { block in
                block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
            }
        }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation
        init(_ continuation: AsyncStream<ByteBuffer>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }
        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }
    }

    let channel: any Channel
    private var incoming: AsyncStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []
    private(set) var peerClosed = false

    private init(channel: any Channel, incoming: AsyncStream<ByteBuffer>) {
        self.channel = channel
        self.incoming = incoming.makeAsyncIterator()
    }

    static func connect(port: Int, autoRead: Bool = true) async throws -> TestHTTPClient {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestHTTPClient(channel: channel, incoming: stream)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends one request (with Content-Length when there is a body) and reads its whole response.
    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil,
                 keepAlive: Bool = true) async throws -> Response {
        try await sendRequest(method, path, headers: headers, body: body, keepAlive: keepAlive)
        return try await readResponse()
    }

    func sendRequest(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil,
                     keepAlive: Bool = true) async throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            head += "Content-Length: \(body.utf8.count)\r\n"
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                head += "Content-Type: application/json\r\n"
            }
        }
        try await send(head + "\r\n" + (body ?? ""))
    }

    /// Reads one response: head, then a Content-Length body, a chunked body, or (Connection: close) until EOF.
    func readResponse() async throws -> Response {
        var response = try await readHead()
        if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try await readBytes(length)
        } else if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try await readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw TestFailure("bad chunk size line '\(sizeLine)'")
                }
                if size == 0 {
                    _ = try await readLine()
                    break
                }
                response.body += try await readBytes(size)
                _ = try await readLine()
            }
        } else {
            while try await fill() {}
            response.body = pending
            pending = []
        }
        return response
    }

    /// Reads a status line and headers.
    func readHead() async throws -> Response {
        let statusLine = try await readLine()
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw TestFailure("bad status line '\(statusLine)'") }
        var headers: [(String, String)] = []
        while true {
            let line = try await readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestFailure("bad header '\(line)'") }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingPrefixSpaces))
        }
        return Response(status: status, headers: headers, body: [])
    }

    /// Reads until `marker` has arrived; returns (and consumes) everything up to and including it.
    func readUntil(_ marker: String) async throws -> String {
        let needle = Array(marker.utf8)
        while true {
            if let end = firstIndex(of: needle) {
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end)
                return text
            }
            guard try await fill() else { throw TestFailure("connection closed before '\(marker)'") }
        }
    }

    /// Reads and discards until the server closes the connection; true when it did within `seconds`.
    func waitForClose(seconds: Double = 120) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        pending = []
        while ContinuousClock.now < deadline {
            guard (try? await fill()) == true else { return true }
            pending = []
        }
        return false
    }

    func close() async {
        try? await channel.close()
    }

    private func readLine() async throws -> String {
        // "\r\n" is one Character, so drop it as such.
        String(try await readUntil("\r\n").dropLast(1))
    }

    private func readBytes(_ count: Int) async throws -> [UInt8] {
        while pending.count < count {
            guard try await fill() else { throw TestFailure("connection closed in a body") }
        }
        defer { pending.removeFirst(count) }
        return Array(pending[..<count])
    }

    private func fill() async throws -> Bool {
        guard let buffer = await incoming.next() else {
            peerClosed = true
            return false
        }
        pending += buffer.readableBytesView
        return true
    }

    private func firstIndex(of needle: [UInt8]) -> Int? {
        guard pending.count >= needle.count else { return nil }
        for start in 0...(pending.count - needle.count) where pending[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }
}

extension Substring {
    var trimmingPrefixSpaces: String { String(drop { $0 == " " }) }
}
