import PluginABI
import Synchronization

/// One model loaded by a plugin, and the only Swift owner of its px_model handle. Every [model] call goes through
/// `modelLock`, so the plugin never sees two calls on the same model at once.
public final class LoadedModel: @unchecked Sendable {
    public let id: String
    public let plugin: PluginInstance
    public let info: ModelInfo
    /// Pages in the KV arena the host allocated for this model (0 when the model keeps no KV).
    public let kvPageCount: UInt32
    let api: ModelAPI
    // SAFETY: the handles below are owned by this object alone and used only under `modelLock`.
    private let handle: OpaquePointer
    private let scope: (HostScope, OpaquePointer)
    private let kv: KVArena?
    private let modelLock = Mutex<Void>(())
    private let clock: StepClock
    private var stepNumber: UInt64 = 0
    private var liveRequests: [ObjectIdentifier: ModelRequest] = [:]
    private var isUnloaded = false

    private init(id: String, plugin: PluginInstance, info: ModelInfo, api: ModelAPI, handle: OpaquePointer,
                 scope: (HostScope, OpaquePointer), kv: KVArena?) {
        self.id = id
        self.plugin = plugin
        self.info = info
        self.api = api
        self.handle = handle
        self.scope = scope
        self.clock = StepClock(scope: scope.0)
        self.kv = kv
        self.kvPageCount = kv?.pages ?? 0
    }

    /// Loads a model: model_create with borrowed paths and options, then model_info, checked. `kvPages` sizes the
    /// host's KV arena for token models.
    public static func load(plugin: PluginInstance, id: String, paths: [String], options: [(String, String)],
                            stream: DeviceStream, kvPages: UInt32) throws(PluginError) -> LoadedModel {
        try load(plugin: plugin, id: id, paths: paths, options: options, stream: stream, kvPagesFor: { _ in kvPages })
    }

    /// Loads a model whose KV arena is sized from its own description (`kvPagesFor` sees the checked model info).
    /// `admitWeights`, when given, is asked before each of the model's weight allocations (the weight budget).
    static func load(plugin: PluginInstance, id: String, paths: [String], options: [(String, String)],
                     stream: DeviceStream, admitWeights: WeightGate? = nil,
                     kvPagesFor: (ModelInfo) -> UInt32) throws(PluginError) -> LoadedModel {
        let api = try plugin.modelAPI()
        let services = plugin.services
        let device = (stream as? CUDAStream)?.device
        let scope = services.openScope(name: "model \(id)", device: device, admitWeights: admitWeights)
        let handle: OpaquePointer
        do {
            handle = try create(plugin: plugin, api: api, id: id, paths: paths, options: options, scope: scope.1, stream: stream)
        } catch {
            services.closeScope(scope.1)
            throw error
        }
        do {
            let info = try describe(api: api, handle: handle)
            let kv = try KVArena.make(for: info, pages: kvPagesFor(info), modelID: id, device: device, services: services)
            return LoadedModel(id: id, plugin: plugin, info: info, api: api, handle: handle, scope: scope, kv: kv)
        } catch {
            api.table.pointee.model_destroy!(handle)
            services.closeScope(scope.1)
            throw error
        }
    }

    private static func create(plugin: PluginInstance, api: ModelAPI, id: String, paths: [String],
                               options: [(String, String)], scope: OpaquePointer, stream: DeviceStream) throws(PluginError) -> OpaquePointer {
        let arena = CArena()
        var desc = px_model_desc()
        desc.header = px_header(size: UInt32(MemoryLayout<px_model_desc>.size), version: 1)
        desc.id = arena.string(id)
        let cPaths: [UnsafePointer<CChar>?] = paths.map { arena.string($0) }
        desc.paths = UnsafePointer(arena.array(cPaths))
        desc.n_paths = UInt32(paths.count)
        let cOptions = options.map { px_option(key: arena.string($0.0), value: arena.string($0.1)) }
        desc.options = UnsafePointer(arena.array(cOptions))
        desc.n_options = UInt32(options.count)
        desc.device = stream.deviceKind
        desc.device_index = stream.deviceIndex
        desc.scope = scope
        desc.load_stream = plugin.services.handle(for: stream)
        let create = api.table.pointee.model_create!
        var out: OpaquePointer?
        try plugin.withControl { pluginHandle throws(PluginError) in
            try BoundaryCall.check("model_create") { create(pluginHandle, &desc, &out) }
        }
        guard let out else {
            throw PluginError(status: Int32(PX_ERR_INTERNAL), message: "model_create returned PX_OK but no model handle", call: "model_create")
        }
        return out
    }

    private static func describe(api: ModelAPI, handle: OpaquePointer) throws(PluginError) -> ModelInfo {
        var c = px_model_info()
        c.header = px_header(size: UInt32(MemoryLayout<px_model_info>.size), version: 1)
        try BoundaryCall.check("model_info") { api.table.pointee.model_info!(handle, &c) }
        let info = ModelInfo(c)
        if let problem = info.problem(servedKinds: api.kinds) {
            throw PluginError(status: Int32(PX_ERR_INTERNAL), message: problem, call: "model_info (host check)")
        }
        return info
    }

    /// Creates a request; its sink receives every output, ending with exactly one FINAL.
    public func makeRequest(id requestID: UInt64, input: RequestInput, sink: RequestSink) throws(PluginError) -> ModelRequest {
        try modelLock.withLock { _ throws(PluginError) -> ModelRequest in
            precondition(!isUnloaded, "request on an unloaded model")
            let services = plugin.services
            let arena = CArena()
            let sinkHandle = services.register(sink: sink)
            var desc = px_request_desc()
            desc.header = px_header(size: UInt32(MemoryLayout<px_request_desc>.size), version: 1)
            desc.id = requestID
            desc.kind = input.kind
            desc.sink = sinkHandle
            desc.input = input.cStruct(in: arena)
            var out: OpaquePointer?
            let handle = self.handle
            do throws(PluginError) {
                try BoundaryCall.check("request_create") { api.table.pointee.request_create!(handle, &desc, &out) }
            } catch {
                services.unregister(sink: sinkHandle)
                throw error
            }
            guard let out else {
                services.unregister(sink: sinkHandle)
                throw PluginError(status: Int32(PX_ERR_INTERNAL), message: "request_create returned PX_OK but no request handle", call: "request_create")
            }
            let request = ModelRequest(id: requestID, sink: sink, input: input, handle: out, sinkHandle: sinkHandle, arena: arena, model: self)
            liveRequests[ObjectIdentifier(request)] = request
            return request
        }
    }

    /// Destroys a request (after its FINAL, or after a failed step ended it).
    public func destroy(_ request: ModelRequest) {
        modelLock.withLock { _ in destroyLocked(request) }
    }

    private func destroyLocked(_ request: ModelRequest) {
        guard !request.isDestroyed else { return }
        api.table.pointee.request_destroy!(handle, request.handle)
        request.isDestroyed = true
        liveRequests[ObjectIdentifier(request)] = nil
        plugin.services.unregister(sink: request.sinkHandle)
    }

    /// Runs one step over `items` on `stream`, then step_finish. A failed step ends the batch's unfinished
    /// requests with the error (FINAL by the host) and rethrows it. Returns the step's time on the stream, measured
    /// with events (`StepClock`), or nil when the events could not be recorded.
    @discardableResult
    public func step(_ items: [StepItem], on stream: DeviceStream) throws(PluginError) -> Double? {
        try modelLock.withLock { _ throws(PluginError) -> Double? in try stepLocked(items, on: stream) }
    }

    private func stepLocked(_ items: [StepItem], on stream: DeviceStream) throws(PluginError) -> Double? {
        precondition(!isUnloaded, "step on an unloaded model")
        precondition(items.allSatisfy { !$0.request.isDestroyed && $0.request.model === self }, "step item of another model or a destroyed request")
        stepNumber += 1
        let arena = CArena()
        let cItems = items.map { $0.cStruct(in: arena) }
        var step = px_step()
        step.header = px_header(size: UInt32(MemoryLayout<px_step>.size), version: 1)
        step.number = stepNumber
        step.stream = plugin.services.handle(for: stream)
        step.items = UnsafePointer(arena.array(cItems))
        step.n_items = UInt32(cItems.count)
        step.item_stride = UInt32(MemoryLayout<px_step_item>.stride)
        step.kv = kv?.handle
        step.n_kv_pages = kv?.pages ?? 0
        let table = api.table.pointee
        let handle = self.handle
        do throws(PluginError) {
            let timed = clock.begin(on: stream)
            try BoundaryCall.check("step") { table.step!(handle, &step) }
            let ended = timed && !stream.isRecording && clock.finish(on: stream)
            try Self.awaitStreamWork(of: stream)
            let seconds = ended ? clock.seconds() : nil
            if let finish = table.step_finish {
                try BoundaryCall.check("step_finish") { finish(handle, &step) }
            }
            return seconds
        } catch {
            _ = stream.discardRecording()
            for item in items { item.request.sink.endByHost(status: error.status, message: error.message) }
            throw error
        }
    }

    /// Between step and step_finish: the step's stream work must have completed (what mem_read delivers is read in
    /// step_finish). A CPU stream's work completed when step returned; a CUDA stream is synchronized. A recording
    /// left open would capture the next step of any model sharing the stream: it is discarded and fails the step.
    private static func awaitStreamWork(of stream: DeviceStream) throws(PluginError) {
        if stream.discardRecording() {
            throw PluginError(status: Int32(PX_ERR_INVALID_ARGUMENT),
                              message: "step returned while stream '\(stream.label)' was recording a graph (graph_begin without graph_end); the recording was discarded",
                              call: "step")
        }
        do throws(ServiceFailure) {
            try stream.completeWork()
        } catch {
            throw PluginError(status: Int32(error.status), message: "the step's stream work failed: \(error.message)", call: "step (host)")
        }
    }

    /// Whether the host may move the model's requests between KV pages (a plugin of ABI 1.2 or later keeps no page
    /// index across steps), so a preempted sequence can keep its KV in host memory instead of recomputing it.
    public var movesKV: Bool { kv != nil && plugin.descriptor.negotiatedMinor >= 2 }

    /// Copies the bytes of `pages` of the KV arena, in order, into a new host buffer, on `stream` (ordered before
    /// any later step reuses those pages).
    func saveKV(pages: [UInt32], on stream: DeviceStream) throws(PluginError) -> HostBuffer {
        guard let kv else { throw PluginError(status: Int32(PX_ERR_UNSUPPORTED), message: "the model keeps no KV", call: "kv swap (host)") }
        let pageBytes = info.kvPageBytes
        let (bytes, overflow) = pageBytes.multipliedReportingOverflow(by: UInt64(pages.count))
        guard !overflow, bytes > 0 else { throw PluginError(status: Int32(PX_ERR_INVALID_ARGUMENT), message: "no pages to save", call: "kv swap (host)") }
        let memory = plugin.services.memory
        do throws(ServiceFailure) {
            let saved = try memory.allocate(scope: scope.0, label: "kv swap \(id)", memory: UInt32(PX_MEMORY_PINNED_HOST),
                                            residency: UInt32(PX_RESIDENCY_KV), bytes: bytes, alignment: 4096)
            do throws(ServiceFailure) {
                for (index, page) in pages.enumerated() {
                    try stream.copy(to: saved, at: UInt64(index) * pageBytes, from: kv.buffer, at: UInt64(page) * pageBytes, bytes: pageBytes)
                }
            } catch {
                stream.synchronizeAll()
                memory.account(released: saved)
                throw error
            }
            return saved
        } catch {
            throw PluginError(status: Int32(error.status), message: "saving KV pages: \(error.message)", call: "kv swap (host)")
        }
    }

    /// Copies a buffer from `saveKV` back into `pages` of the KV arena, on `stream` (before the step that uses them).
    func restoreKV(_ saved: HostBuffer, into pages: [UInt32], on stream: DeviceStream) throws(PluginError) {
        guard let kv else { throw PluginError(status: Int32(PX_ERR_UNSUPPORTED), message: "the model keeps no KV", call: "kv swap (host)") }
        let pageBytes = info.kvPageBytes
        guard UInt64(pages.count) * pageBytes == saved.bytes else {
            throw PluginError(status: Int32(PX_ERR_INVALID_ARGUMENT), message: "restoring \(saved.bytes) bytes into \(pages.count) pages", call: "kv swap (host)")
        }
        do throws(ServiceFailure) {
            for (index, page) in pages.enumerated() {
                try stream.copy(to: kv.buffer, at: UInt64(page) * pageBytes, from: saved, at: UInt64(index) * pageBytes, bytes: pageBytes)
            }
        } catch {
            throw PluginError(status: Int32(error.status), message: "restoring KV pages: \(error.message)", call: "kv swap (host)")
        }
    }

    /// Frees a buffer from `saveKV` once nothing on the stream reads it any more.
    func dropSavedKV(_ saved: HostBuffer) {
        plugin.services.memory.account(released: saved)
    }

    /// The model's weight buffers, in allocation order (what the memory tiers move).
    func weightBuffers() -> [HostBuffer] {
        let scope = self.scope.0
        return plugin.services.buffers.filter { $0.scope === scope && $0.residency == UInt32(PX_RESIDENCY_WEIGHTS) }
            .sorted { $0.serial < $1.serial }
    }

    /// Parks the model's weights in pinned host memory (the model must be idle: no step runs meanwhile).
    public func evictWeights(over streams: [DeviceStream]) throws(PluginError) -> TransferReport {
        try modelLock.withLock { _ throws(PluginError) -> TransferReport in
            do throws(ServiceFailure) {
                return try TierMover(memory: plugin.services.memory, streams: streams).evict(weightBuffers())
            } catch {
                throw PluginError(status: Int32(error.status), message: error.message, call: "evict (host)")
            }
        }
    }

    /// Starts bringing the weights back; the next step may begin at once (each layer settles when first used).
    public func beginRestoringWeights(over streams: [DeviceStream]) throws(PluginError) -> TransferInFlight {
        do {
            return try TierMover(memory: plugin.services.memory, streams: streams).beginRestore(weightBuffers())
        } catch {
            throw PluginError(status: Int32(error.status), message: error.message, call: "restore (host)")
        }
    }

    /// Weight bytes the memory tiers can move: every weight buffer but file mappings (the OS pages those).
    public var movableWeightBytes: UInt64 {
        weightBuffers().filter { $0.memory != UInt32(PX_MEMORY_FILE) }.reduce(0) { $0 + $1.bytes }
    }

    /// Whether any weight buffer is parked.
    public var isEvicted: Bool { weightBuffers().contains { $0.isParked } }

    /// Destroys the model and frees its KV arena; returns what the model's scope still held (leaks). Requests still
    /// live are cancelled and stepped once more (so each gets its FINAL), then destroyed.
    @discardableResult
    public func unload(on stream: DeviceStream) -> [String] {
        modelLock.withLock { _ in
            guard !isUnloaded else { return [] }
            let remaining = Array(liveRequests.values)
            remaining.forEach { $0.sink.cancel() }
            let polls = remaining.filter { $0.sink.finalOutput == nil }.map { StepItem(request: $0) }
            if !polls.isEmpty { _ = try? stepLocked(polls, on: stream) }
            remaining.forEach { destroyLocked($0) }
            isUnloaded = true
            api.table.pointee.model_destroy!(handle)
            kv?.release(services: plugin.services)
            plugin.services.closeScope(scope.1)
            return scope.0.liveObjects()
        }
    }
}
