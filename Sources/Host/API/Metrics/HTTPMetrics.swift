import Synchronization

/// The HTTP side's counters, in Prometheus text format: requests by route and status, open connections, open
/// event streams. The service adds its own (per model) metrics next to these.
final class HTTPMetrics: Sendable {
    private struct State {
        var requests: [RequestKey: Int] = [:]
        var openConnections = 0
        var openStreams = 0
    }

    private struct RequestKey: Hashable, Comparable {
        var route: String
        var status: Int
        static func < (a: RequestKey, b: RequestKey) -> Bool { (a.route, a.status) < (b.route, b.status) }
    }

    private let state = Mutex(State())

    func requestFinished(route: String, status: Int) {
        state.withLock { $0.requests[RequestKey(route: route, status: status), default: 0] += 1 }
    }

    func connectionOpened() { state.withLock { $0.openConnections += 1 } }
    func connectionClosed() { state.withLock { $0.openConnections -= 1 } }
    func streamOpened() { state.withLock { $0.openStreams += 1 } }
    func streamClosed() { state.withLock { $0.openStreams -= 1 } }

    /// The counters in Prometheus text exposition format (ends with a newline).
    func render() -> String {
        let snapshot = state.withLock { $0 }
        var text = """
            # HELP plexus_http_requests_total HTTP requests answered, by route pattern and status.
            # TYPE plexus_http_requests_total counter

            """
        for (key, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            text += "plexus_http_requests_total{route=\"\(key.route)\",status=\"\(key.status)\"} \(count)\n"
        }
        text += """
            # HELP plexus_http_connections_open HTTP connections open now.
            # TYPE plexus_http_connections_open gauge
            plexus_http_connections_open \(snapshot.openConnections)
            # HELP plexus_http_sse_streams_open Server-sent event streams open now.
            # TYPE plexus_http_sse_streams_open gauge
            plexus_http_sse_streams_open \(snapshot.openStreams)

            """
        return text
    }
}
