/// What a load pass produced: the plugins that serve, and one line for each library refused.
public struct PluginLoadReport: Sendable {
    public var plugins: [PluginInstance] = []
    public var refusals: [PluginLoadError] = []
}

/// Finds, opens, validates and initializes plugins. A bad library is refused with one line naming the file and
/// the problem, and the others keep serving. Libraries are never closed.
public final class PluginLoader: Sendable {
    let memory: HostMemory
    let cpu: CPUDevice
    let logger: @Sendable (LogLine) -> Void

    public init(memory: HostMemory, cpu: CPUDevice, logger: @escaping @Sendable (LogLine) -> Void) {
        self.memory = memory
        self.cpu = cpu
        self.logger = logger
    }

    /// Loads every plugin file on the search path.
    public func loadAll(_ searchPath: PluginSearchPath) -> PluginLoadReport {
        var report = PluginLoadReport()
        for path in searchPath.pluginFiles() {
            do {
                report.plugins.append(try load(path: path, alongside: report.plugins))
            } catch {
                report.refusals.append(error)
            }
        }
        return report
    }

    /// Opens and initializes one library; refuses an id that one of `loaded` already has.
    public func load(path: String, alongside loaded: [PluginInstance] = []) throws(PluginLoadError) -> PluginInstance {
        let instance = try open(path: path)
        if let other = loaded.first(where: { $0.descriptor.id == instance.descriptor.id }) {
            throw PluginLoadError(path: path, problem: "plugin id '\(instance.descriptor.id)' is already provided by \(other.library.path)")
        }
        do {
            try instance.initialize()
        } catch {
            throw PluginLoadError(path: path, problem: "init failed: \(PluginStatus.name(error.status)): \(error.message)")
        }
        return instance
    }

    /// Opens and validates one library without initializing it (what `plugin check` starts from).
    public func open(path: String) throws(PluginLoadError) -> PluginInstance {
        let library = try PluginLibrary.open(path: path)
        let services = HostServices(pluginID: library.descriptor.id, memory: memory, cpu: cpu, logger: logger)
        return PluginInstance(library: library, services: services)
    }
}
