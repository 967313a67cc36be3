/// A model file opened with the plugin that claims it, on the CPU or one GPU, ready to generate: what `plexus run` and
/// `plexus bench` use (the server will load models through the catalog and the scheduler instead).
public final class ModelSession {
    public let devices: DeviceSet
    public let plugin: PluginInstance
    public let model: LoadedModel
    public let runner: SequenceRunner

    /// Why a model file could not be opened.
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    private init(devices: DeviceSet, plugin: PluginInstance, model: LoadedModel, runner: SequenceRunner) {
        self.devices = devices
        self.plugin = plugin
        self.model = model
        self.runner = runner
    }

    /// Loads every plugin on the search path, picks the one whose probe scores `path` highest, and loads it on
    /// `device`: on the CPU (CUDA is not opened), or on a stream of that GPU (an error "no GPU: ..." without one).
    public static func open(path: String, pluginDirectories: [String], environment: [String: String],
                            threads: Int? = nil, options: [(String, String)] = [], kvPages: UInt32 = 1024,
                            device: DeviceChoice = .cpu) throws -> ModelSession {
        let devices = device.discover(environment: environment, cpuThreads: threads)
        var gpu: CUDADevice?
        switch device.gpu(in: devices) {
        case .failure(let noGPU)?: throw OpenError(description: noGPU.description)
        case .success(let found)?: gpu = found
        case nil: break
        }
        let loader = PluginLoader(memory: HostMemory(pinningDevice: gpu), cpu: devices.cpu) { _ in }
        let report = loader.loadAll(PluginSearchPath.resolve(commandLine: pluginDirectories, environment: environment))
        let plugin: PluginInstance
        do { plugin = try report.claim(path) } catch { throw OpenError(description: error.description) }
        let stream: DeviceStream
        if let gpu {
            do { stream = try gpu.makeStream(label: "run", urgent: false, pool: devices.cpu.pool) } catch {
                throw OpenError(description: "no GPU: cuda:\(gpu.ordinal): \(error.description)")
            }
        } else {
            stream = devices.cpu.makeStream(label: "run")
        }
        let model = try LoadedModel.load(plugin: plugin, id: "run", paths: [path], options: options, stream: stream, kvPages: kvPages)
        return ModelSession(devices: devices, plugin: plugin, model: model, runner: SequenceRunner(model: model, stream: stream))
    }
}
