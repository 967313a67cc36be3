import Synchronization
import Glibc
import PluginABI

/// The host's `ModelService`: loads models with the plugins that claim them and serves every generation through
/// the one engine, on one shared stream.
public final class GenerationService: ModelService {
    /// One model's entry: its status, and once loaded, how it is served.
    private struct Entry {
        var serial: Int
        var spec: ServedModelSpec
        var status: ServedModel.Status = .loading
        var failure: String?
        var served: ServingModel?
        var created: Int
    }

    private let plugins: PluginLoadReport
    private let devices: DeviceSet
    private let weightBudget: UInt64?
    /// Movable weight bytes of the always-resident models loaded or loading.
    private let pinnedWeights = Mutex<UInt64>(0)
    private let stream: DeviceStream
    private let engine: Engine
    private let entries = Mutex<[Entry]>([])
    private let loaders = Mutex<[HostThread]>([])
    private let nextID = Atomic<UInt64>(1)
    /// Loads that allocate weights under the budget take turns (see `WeightAdmission`).
    private let loadTurn = LoadTurn()
    private let nextSerial = Atomic<Int>(1)

    /// A service over the plugins found on `pluginDirectories` (and PLEXUS_PLUGIN_PATH), on the CPU device.
    /// With a `weightBudget`, the weights of the models together stay within that many bytes of the memory they
    /// compute from: models that are not pinned are parked in host memory when others need room, and brought back
    /// when their requests come (Specs/scheduler.md, "Residency").
    public convenience init(devices: DeviceSet, pluginDirectories: [String], environment: [String: String], weightBudget: UInt64? = nil) {
        self.init(devices: devices, pluginDirectories: pluginDirectories, environment: environment, weightBudget: weightBudget,
                  memory: HostMemory(), engineStream: devices.cpu.makeStream(label: "engine"),
                  weightLanes: [devices.cpu.makeStream(label: "weights 0"), devices.cpu.makeStream(label: "weights 1")])
    }

    /// The same service with the engine's stream (and the weight lanes) on `gpu`: every model loads and steps there.
    public convenience init(devices: DeviceSet, pluginDirectories: [String], environment: [String: String], weightBudget: UInt64? = nil,
                            gpu: CUDADevice) throws(CUDAError) {
        let pool = devices.cpu.pool
        self.init(devices: devices, pluginDirectories: pluginDirectories, environment: environment, weightBudget: weightBudget,
                  memory: HostMemory(pinningDevice: gpu), engineStream: try gpu.makeStream(label: "engine", urgent: true, pool: pool),
                  weightLanes: [try gpu.makeStream(label: "weights 0", urgent: false, pool: pool),
                                try gpu.makeStream(label: "weights 1", urgent: false, pool: pool)])
    }

    private init(devices: DeviceSet, pluginDirectories: [String], environment: [String: String], weightBudget: UInt64?,
                 memory: HostMemory, engineStream: DeviceStream, weightLanes: [DeviceStream]) {
        self.devices = devices
        self.weightBudget = weightBudget
        let loader = PluginLoader(memory: memory, cpu: devices.cpu) { _ in }
        plugins = loader.loadAll(PluginSearchPath.resolve(commandLine: pluginDirectories, environment: environment))
        stream = engineStream
        let residency = weightBudget.map { budget in Engine.Residency(budget: budget, lanes: weightLanes) }
        engine = Engine(stream: stream, metrics: ServingMetrics(), residency: residency)
        engine.start()
    }

    /// Records every step the engine runs from now on (for scheduler benchmarks).
    public func traceSteps() -> StepTrace {
        let trace = StepTrace()
        engine.record(into: trace)
        return trace
    }

    /// Starts loading a model on its own thread; it lists as loading until it is ready or has failed.
    /// `done`, if given, receives its listing once it is either.
    public func load(_ spec: ServedModelSpec, done: (@Sendable (ServedModel) -> Void)? = nil) {
        let serial = nextSerial.wrappingAdd(1, ordering: .relaxed).oldValue
        entries.withLock { $0.append(Entry(serial: serial, spec: spec, created: Int(time(nil)))) }
        let thread = HostThread { [self] in
            var listing = ServedModel(id: spec.id, status: .failed, failure: "removed by a reload while it loaded", capabilities: [],
                                      created: Int(time(nil)), contextLength: 0)
            // Under a budget the load asks for room before each weight allocation (Specs/scheduler.md, "Making room
            // before a load"); its grants end when the engine takes the model in.
            let admission = weightBudget.map { budget in
                WeightAdmission(model: spec.id, budget: budget, engine: engine, turn: loadTurn) { [unowned self] in nextSequenceID() }
            }
            do {
                let served: ServingModel
                do {
                    served = try open(spec, admission: admission)
                } catch {
                    admission?.end(adding: nil)
                    throw error
                }
                if let admission { admission.end(adding: served) } else { engine.add(served) }
                let kept = update(serial) { $0.served = served; $0.status = .ready }
                if let kept { listing = kept } else { retire(served) }
            } catch {
                listing = update(serial) { $0.status = .failed; $0.failure = "\(error)" } ?? listing
            }
            done?(listing)
        }
        loaders.withLock { $0.append(thread) }
    }

    /// Changes the entry `serial` if it is still listed; returns its new listing.
    private func update(_ serial: Int, _ change: (inout Entry) -> Void) -> ServedModel? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.serial == serial }) else { return nil }
            change(&entries[index])
            return Self.listing(entries[index])
        }
    }

    /// What a reload changed, by model id.
    public struct ReloadSummary: Sendable, Equatable {
        public var added: [String] = []
        public var removed: [String] = []
        public var replaced: [String] = []
        public var unchanged: [String] = []
    }

    /// Serves exactly `specs` from now on: new ids load, ids no longer listed stop taking requests and leave once
    /// their running generations finish (none is dropped), and changed specs load anew while the old model drains.
    public func reload(_ specs: [ServedModelSpec], done: (@Sendable (ServedModel) -> Void)? = nil) -> ReloadSummary {
        var summary = ReloadSummary()
        var toLoad: [ServedModelSpec] = []
        let retiring: [ServingModel] = entries.withLock { entries in
            var retiring: [ServingModel] = []
            entries.removeAll { entry in
                let replacement = specs.first { $0.id == entry.spec.id }
                if let replacement, replacement.sameServing(as: entry.spec) { return false }
                if let served = entry.served { retiring.append(served) }
                if replacement == nil { summary.removed.append(entry.spec.id) } else { summary.replaced.append(entry.spec.id) }
                return true
            }
            for spec in specs {
                if entries.contains(where: { $0.spec.id == spec.id }) { summary.unchanged.append(spec.id); continue }
                if !summary.replaced.contains(spec.id) { summary.added.append(spec.id) }
                toLoad.append(spec)
            }
            return retiring
        }
        retiring.forEach { retire($0) }
        toLoad.forEach { load($0, done: done) }
        return summary
    }

    /// Waits until every model given to `load` so far is ready or failed.
    public func waitForLoads() {
        let threads = loaders.withLock { threads in defer { threads.removeAll() }; return threads }
        threads.forEach { $0.join() }
    }

    private func open(_ spec: ServedModelSpec, admission: WeightAdmission?) throws -> ServingModel {
        guard let path = spec.paths.first else { throw ServiceError(.invalidRequest, "model '\(spec.id)' names no weight file") }
        let plugin = try plugins.claim(path)
        var gate: WeightGate?
        if let admission {
            gate = { (bytes: UInt64, label: String) throws(ServiceFailure) -> Void in try admission.admit(bytes: bytes, label: label) }
        }
        let model = try LoadedModel.load(plugin: plugin, id: spec.id, paths: spec.paths, options: spec.options, stream: stream,
                                         admitWeights: gate,
                                         kvPagesFor: { Self.kvPages(for: $0, bytes: spec.kvBytes) })
        let denoises = model.info.denoises
        guard model.info.takesTokens || denoises else {
            model.unload(on: stream)
            throw ServiceError(.unsupported, "model '\(spec.id)' is of kind \(model.info.kind); LLMs and image models are served, not yet this kind")
        }
        var frontend: TextFrontend?
        if !denoises {
            do { frontend = try TextFrontend.load(path: path, modelName: spec.id) } catch {
                model.unload(on: stream)
                throw error
            }
        }
        if let budget = weightBudget {
            let bytes = model.movableWeightBytes
            // Pinned bytes are reserved here, under the lock, so models loading side by side cannot both fit.
            let pinned = spec.alwaysResident ? pinnedWeights.withLock { total -> UInt64? in
                guard total + bytes <= budget else { return total + bytes }
                total += bytes
                return nil
            } : nil
            guard bytes <= budget, pinned == nil else {
                model.unload(on: stream)
                let what = bytes > budget ? "model '\(spec.id)' has \(FixedPoint.mebibytes(bytes)) of weights"
                                          : "the always-resident models with '\(spec.id)' have \(FixedPoint.mebibytes(pinned!)) of weights"
                throw ServiceError(.invalidRequest, "\(what); the weight budget is \(FixedPoint.mebibytes(budget))", retryable: false)
            }
        }
        return ServingModel(id: spec.id, model: model, frontend: frontend, weight: spec.weight, maxWaiting: spec.maxWaiting,
                            sliceSeconds: spec.sliceSeconds, pinned: spec.alwaysResident, priority: spec.priority,
                            savesKV: spec.savesKV)
    }

    /// Takes a model out of service (it drains, then unloads) and gives back its pinned weight reservation.
    private func retire(_ served: ServingModel) {
        if served.pinned { pinnedWeights.withLock { $0 -= min($0, served.movableWeightBytes) } }
        engine.retire(served)
    }

    /// Pages for `bytes` of KV memory, and never fewer than one full context needs.
    static func kvPages(for info: ModelInfo, bytes: UInt64) -> UInt32 {
        guard info.kvPageBytes > 0, info.kvPageTokens > 0 else { return 0 }
        let oneContext = (UInt64(info.contextLength) + UInt64(info.kvPageTokens) - 1) / UInt64(info.kvPageTokens) + 1
        return UInt32(min(max(bytes / info.kvPageBytes, oneContext), UInt64(UInt32.max)))
    }

    /// Cancels every generation, lets the plugins close their requests, and stops the engine.
    public func shutdown() {
        waitForLoads()
        engine.shutdown()
    }

    // MARK: ModelService

    public func models() -> [ServedModel] {
        entries.withLock { $0.map(Self.listing) }
    }

    private static func listing(_ entry: Entry) -> ServedModel {
        var capabilities: Set<ServedModel.Capability> = []
        var context = 0
        if let served = entry.served {
            context = Int(served.model.info.contextLength)
            switch Int32(served.model.info.kind) {
            case Int32(PX_KIND_EMBEDDING): capabilities = [.embedding]
            case Int32(PX_KIND_IMAGE): capabilities = [.image]
            default:
                capabilities.insert(.completion)
                if served.frontend?.chatTemplateSource != nil { capabilities.insert(.chat) }
            }
        }
        return ServedModel(id: entry.spec.id, aliases: entry.spec.aliases, status: entry.status, failure: entry.failure,
                           capabilities: capabilities, created: entry.created, contextLength: context)
    }

    /// The next number on the one clock that orders sequences and weight reservations (arrival order).
    private func nextSequenceID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    public func generate(_ request: GenerationRequest) throws(ServiceError) -> GenerationHandle {
        let served = try resolve(request.model)
        let prompt = try GenerationPrompt.tokens(for: request, on: served)
        let input = try GenerationPrompt.input(for: request, prompt: prompt, on: served)
        let id = nextSequenceID()
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let output = TextOutput(frontend: try served.textFrontend(), stop: request.stop, logprobs: request.logprobs || request.topLogprobs > 0)
        let sequence = ScheduledSequence(id: id, arrival: id, request: request, priority: request.priority ?? served.priority,
                                         prompt: prompt, input: input, output: output, continuation: continuation)
        sequence.constraint = try GenerationPrompt.constraint(for: request, on: served)
        return try submit(sequence, to: served, events: events, continuation: continuation)
    }

    public func generateImages(_ request: ImageGenerationRequest) throws(ServiceError) -> GenerationHandle {
        let served = try resolve(request.model)
        guard served.denoises else {
            throw ServiceError(.unsupported, "model '\(served.id)' does not generate images", param: "model", retryable: false)
        }
        let input = try request.input(defaults: served.model.info)
        let id = nextSequenceID()
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let submission = ScheduledSequence.Submission(priority: request.priority ?? served.priority, apiKey: request.apiKey,
                                                      keyWeight: request.keyWeight, deadline: request.deadline)
        let sequence = ScheduledSequence(id: id, arrival: id, submission: submission, image: input, continuation: continuation)
        return try submit(sequence, to: served, events: events, continuation: continuation)
    }

    /// Queues `sequence` on the engine; the handle (and the client going away) cancel it at the next step boundary.
    private func submit(_ sequence: ScheduledSequence, to served: ServingModel, events: AsyncStream<GenerationEvent>,
                        continuation: AsyncStream<GenerationEvent>.Continuation) throws(ServiceError) -> GenerationHandle {
        try engine.submit(sequence, to: served)
        let engine = self.engine
        continuation.onTermination = { @Sendable termination in
            if case .cancelled = termination { sequence.cancel(); engine.wake() }
        }
        return GenerationHandle(id: sequence.id, events: events) { sequence.cancel(); engine.wake() }
    }

    private func resolve(_ name: String) throws(ServiceError) -> ServingModel {
        let entry = entries.withLock { $0.first { $0.spec.id == name || $0.spec.aliases.contains(name) } }
        guard let entry else { throw ServiceError(.modelNotFound, "the model '\(name)' does not exist", param: "model") }
        switch entry.status {
        case .loading: throw ServiceError(.loading, "the model '\(name)' is loading", retryAfter: 5)
        case .failed: throw ServiceError(.internalError, "the model '\(name)' failed to load: \(entry.failure ?? "unknown")", retryable: false)
        case .ready: return entry.served!
        }
    }

    public func metricsText() -> String { engine.metrics.prometheusText() }

    /// The engine's models and sequences, for a test that waited too long (diagnostic only: read unsynchronized).
    public func describeEngine() -> String { engine.describe() }

    /// The metrics the engine keeps (device time per model and per key, for tests and benchmarks).
    public var metrics: ServingMetrics { engine.metrics }
}
