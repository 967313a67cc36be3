import HostShim
import PluginABI
import Synchronization

/// One line a plugin logged through the host.
public struct LogLine: Sendable, Equatable {
    public var level: UInt32
    public var source: String
    public var message: String
}

/// The host's side of one plugin library: the px_host table it hands to the plugin and the objects behind every
/// handle in that table (scopes, buffers, events, streams, sinks).
///
/// One instance per loaded library, alive for the rest of the process (libraries are never unloaded, and a plugin
/// that keeps calling after deinit must still find a valid table).
public final class HostServices: Sendable {
    /// The plugin's id, for logs.
    public let pluginID: String
    let memory: HostMemory
    let cpu: CPUDevice
    let logger: @Sendable (LogLine) -> Void

    let scopes = HandleRegistry<HostScope>()
    let buffers = HandleRegistry<HostBuffer>()
    let events = HandleRegistry<HostEvent>()
    let streams = HandleRegistry<DeviceStream>()
    let modules = HandleRegistry<KernelModule>()
    let functions = HandleRegistry<KernelFunction>()
    let sinks = HandleRegistry<RequestSink>()
    let graphs = HandleRegistry<CUDAGraph>()
    private let streamHandles = Mutex<[ObjectIdentifier: UInt]>([:])
    /// The scope each compiled module was created for (released from it by module_free).
    let moduleScopes = Mutex<[ObjectIdentifier: HostScope]>([:])
    private let violationLog = Mutex<[String]>([])
    // SAFETY: allocated once, filled in init, never freed or written again: plugins may hold it forever.
    nonisolated(unsafe) let table: UnsafeMutablePointer<px_host_impl>

    /// Creates the services for one plugin library.
    public init(pluginID: String, memory: HostMemory, cpu: CPUDevice, logger: @escaping @Sendable (LogLine) -> Void) {
        self.pluginID = pluginID
        self.memory = memory
        self.cpu = cpu
        self.logger = logger
        table = .allocate(capacity: 1)
        table.initialize(to: px_host_impl(api: HostTable.make(), owner: nil))
        // SAFETY: retained forever on purpose (see the type's doc): the table's owner pointer never dangles.
        table.pointee.owner = Unmanaged.passRetained(self).toOpaque()
    }

    /// The table to hand to the plugin.
    var host: UnsafePointer<px_host> {
        UnsafeRawPointer(table).assumingMemoryBound(to: px_host.self)
    }

    /// The services behind a table pointer a plugin passed back, or nil for a pointer that is not one of ours.
    static func from(_ host: UnsafePointer<px_host>?) -> HostServices? {
        guard let host, let owner = px_shim_owner(host) else { return nil }
        return Unmanaged<HostServices>.fromOpaque(owner).takeUnretainedValue()
    }

    // MARK: - Scopes, streams, sinks (used by the bridge)

    /// Opens a scope (whose device memory comes from `device`, or the host for nil) and returns it with its handle.
    func openScope(name: String, device: CUDADevice? = nil, admitWeights: WeightGate? = nil) -> (HostScope, OpaquePointer) {
        let scope = HostScope(name: name, device: device, admitWeights: admitWeights)
        return (scope, scopes.insert(scope))
    }

    /// Closes a scope's handle and frees the graphs it still owns (they replay device addresses of the scope's
    /// buffers); what it still owned is reported by `HostScope.liveObjects`.
    func closeScope(_ handle: OpaquePointer) {
        guard let scope = scopes.remove(handle) else { return }
        for graph in graphs.filter({ $0.scope === scope }) {
            _ = graphs.remove(OpaquePointer(Unmanaged.passUnretained(graph).toOpaque()))
        }
    }

    /// The handle of a stream, registered on first use.
    func handle(for stream: DeviceStream) -> OpaquePointer {
        streamHandles.withLock { handles in
            if let known = handles[ObjectIdentifier(stream)] { return OpaquePointer(bitPattern: known)! }
            let handle = streams.insert(stream)
            handles[ObjectIdentifier(stream)] = UInt(bitPattern: UnsafeRawPointer(handle))
            return handle
        }
    }

    func register(sink: RequestSink) -> OpaquePointer { sinks.insert(sink) }
    func unregister(sink handle: OpaquePointer) { _ = sinks.remove(handle) }

    /// Takes the message a failed host service left in this thread's error slot (for host-side callers of the
    /// table: benchmarks and tests).
    static func takeError() -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        guard px_shim_take_error(&buffer, buffer.count) == 1 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    // MARK: - Violations and logging

    /// Misuse of the host table seen so far (bad handles, double frees), oldest first.
    public var violations: [String] { violationLog.withLock { $0 } }

    func recordViolation(_ text: String) {
        violationLog.withLock { $0.append(text) }
        logger(LogLine(level: UInt32(PX_LOG_WARNING), source: pluginID, message: "contract violation: \(text)"))
    }

    func log(level: UInt32, scope: HostScope?, message: String) {
        logger(LogLine(level: level, source: scope?.name ?? "plugin \(pluginID)", message: message))
    }
}

extension HostServices {
    /// Descriptions of host objects still live in the scope named `name` (leak reports after a scope closed).
    public func liveObjects(inScopeNamed name: String) -> [String] {
        let buffers = self.buffers.filter { $0.scope.name == name }.map(\.summary)
        let events = self.events.filter { $0.scope.name == name }.map { _ in "event" }
        let graphs = self.graphs.filter { $0.scope.name == name }.map { _ in "graph" }
        return (buffers + events + graphs).sorted()
    }
}
