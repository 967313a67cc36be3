import Glibc
import PluginABI
import Synchronization

/// An initialized plugin: the px_plugin handle from `init`, its plugin-level scope, and its model table.
/// Calls of the [control] role are serialized by `controlLock`.
public final class PluginInstance: @unchecked Sendable {
    public let library: PluginLibrary
    public let services: HostServices
    // SAFETY: `handle` and `scope` change only inside `controlLock`.
    private var handle: OpaquePointer?
    private var scope: (HostScope, OpaquePointer)?
    let controlLock = Mutex<Void>(())

    public var descriptor: PluginDescriptor { library.descriptor }

    public init(library: PluginLibrary, services: HostServices) {
        self.library = library
        self.services = services
    }

    /// Whether init succeeded and deinit has not been called since.
    public var isInitialized: Bool { controlLock.withLock { _ in handle != nil } }

    /// Calls the plugin's init with the negotiated version.
    public func initialize() throws(PluginError) {
        try controlLock.withLock { _ throws(PluginError) in
            guard handle == nil else { return }
            let opened = services.openScope(name: "plugin \(descriptor.id)")
            var out: OpaquePointer?
            let entry = library.entry
            let host = services.host
            let initialize = entry.pointee.`init`!
            let failure = library.path.withCString { path -> PluginError? in
                var args = px_init_args()
                args.header = px_header(size: UInt32(MemoryLayout<px_init_args>.size), version: 1)
                args.abi_major = UInt32(PX_ABI_MAJOR)
                args.abi_minor = descriptor.negotiatedMinor
                args.library_path = path
                args.scope = opened.1
                do throws(PluginError) {
                    try BoundaryCall.check("init") { initialize(host, &args, &out) }
                    return nil
                } catch { return error }
            }
            if let failure {
                services.closeScope(opened.1)
                throw failure
            }
            guard let out else {
                services.closeScope(opened.1)
                throw PluginError(status: Int32(PX_ERR_INTERNAL), message: "init returned PX_OK but no plugin handle", call: "init")
            }
            handle = out
            scope = opened
        }
    }

    /// Calls deinit; returns what the plugin scope still held (leaks), which the host then reports.
    @discardableResult
    public func deinitialize() -> [String] {
        controlLock.withLock { _ in
            guard let current = handle, let (scopeObject, scopeHandle) = scope else { return [] }
            library.entry.pointee.deinit!(current)
            handle = nil
            scope = nil
            services.closeScope(scopeHandle)
            return scopeObject.liveObjects()
        }
    }

    /// A plugin extension table by id, or nil.
    public func extensionTable(_ id: String) -> UnsafeRawPointer? {
        controlLock.withLock { _ in
            guard let handle else { return nil }
            return id.withCString { library.entry.pointee.get_extension!(handle, $0) }
        }
    }

    /// The validated model table (PX_EXT_MODELS).
    public func modelAPI() throws(PluginError) -> ModelAPI {
        guard let table = extensionTable(PX_EXT_MODELS) else {
            throw PluginError(status: Int32(PX_ERR_UNSUPPORTED), message: "the plugin provides no '\(PX_EXT_MODELS)' extension", call: "get_extension")
        }
        return try ModelAPI(table.assumingMemoryBound(to: px_model_api.self))
    }

    /// Runs `body` with the plugin handle under the control lock (for [control] calls such as model_create).
    func withControl<T>(_ body: (OpaquePointer) throws(PluginError) -> T) throws(PluginError) -> T {
        try controlLock.withLock { _ throws(PluginError) -> T in
            guard let handle else {
                throw PluginError(status: Int32(PX_ERR_INVALID_ARGUMENT), message: "plugin \(descriptor.id) is not initialized", call: "control")
            }
            return try body(handle)
        }
    }
}
