import HostCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The OpenAI-compatible HTTP/1.1 server: accepts connections and serves each with an `HTTPConnection`.
public final class APIServer: Sendable {
    /// The port the server listens on (the one picked when started with port 0).
    public let port: Int
    private let listener: any Channel
    private let registry: ConnectionRegistry
    private let keys: KeyRing
    private let serving: Task<Void, Never>

    private init(port: Int, listener: any Channel, registry: ConnectionRegistry, keys: KeyRing, serving: Task<Void, Never>) {
        self.keys = keys
        self.port = port
        self.listener = listener
        self.registry = registry
        self.serving = serving
    }

    /// Binds `host:port` (port 0 picks a free one) and starts serving `service`.
    public static func start(host: String, port: Int, service: any ModelService,
                             configuration: APIConfiguration = APIConfiguration()) async throws -> APIServer {
        let dispatcher = RequestDispatcher(service: service, configuration: configuration)
        let registry = ConnectionRegistry()
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Requests on one connection are served strictly in order by HTTPConnection, so NIO's
                    // pipelining assistance is not needed (and it would stop reading, hiding a disconnect).
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser(timeout: idleTimeout))
                    return try HTTPChannel(wrappingChannelSynchronously: channel)
                }
            }
        let serving = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                try? await listener.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            await HTTPConnection(channel: connection, dispatcher: dispatcher, registry: registry).run()
                        }
                    }
                }
            }
        }
        return APIServer(port: listener.channel.localAddress?.port ?? port, listener: listener.channel,
                         registry: registry, keys: dispatcher.keys, serving: serving)
    }

    /// Replaces the API keys (a catalog reload); requests in flight keep going.
    public func update(apiKeys: APIKeys) { keys.replace(with: apiKeys) }

    /// Stops accepting, lets in-flight requests (streams included) finish for up to `gracePeriod`, then closes
    /// what is left (which cancels its generations). Returns when every connection is closed.
    public func shutdown(gracePeriod: Duration) async {
        try? await listener.close()
        registry.drain()
        let serving = self.serving
        let registry = self.registry
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await serving.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: gracePeriod)
                return false
            }
            if await group.next() == false { registry.closeAll() }
            group.cancelAll()
        }
    }
}
