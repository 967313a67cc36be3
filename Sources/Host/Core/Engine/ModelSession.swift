/// A model file opened with the plugin that claims it, on the CPU, ready to generate: what `plexus run` and
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

    /// Loads every plugin on the search path, picks the one whose probe scores `path` highest, and loads it.
    public static func open(path: String, pluginDirectories: [String], environment: [String: String],
                            threads: Int? = nil, options: [(String, String)] = [], kvPages: UInt32 = 1024) throws -> ModelSession {
        let devices = DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: threads)
        let loader = PluginLoader(memory: HostMemory(), cpu: devices.cpu) { _ in }
        let report = loader.loadAll(PluginSearchPath.resolve(commandLine: pluginDirectories, environment: environment))
        var best: (PluginInstance, UInt32)?
        for plugin in report.plugins {
            guard let api = try? plugin.modelAPI(), let probe = api.table.pointee.probe else { continue }
            var score: UInt32 = 0
            let status = try plugin.withControl { handle throws(PluginError) -> Int32 in path.withCString { probe(handle, $0, &score) } }
            if status == 0, score > (best?.1 ?? 0) { best = (plugin, score) }
        }
        guard let (plugin, _) = best else {
            let refused = report.refusals.map(\.description).joined(separator: "; ")
            throw OpenError(description: "no plugin claims '\(path)' (plugins: \(report.plugins.map(\.descriptor.id)))\(refused.isEmpty ? "" : "; refused: \(refused)")")
        }
        let stream = devices.cpu.makeStream(label: "run")
        let model = try LoadedModel.load(plugin: plugin, id: "run", paths: [path], options: options, stream: stream, kvPages: kvPages)
        return ModelSession(devices: devices, plugin: plugin, model: model, runner: SequenceRunner(model: model, stream: stream))
    }
}
