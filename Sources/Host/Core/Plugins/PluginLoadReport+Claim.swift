extension PluginLoadReport {
    /// Why no loaded plugin claims a file.
    public struct Unclaimed: Error, CustomStringConvertible {
        public let description: String
    }

    /// The plugin whose probe scores `path` highest (a model plugin that answers PX_OK with a score above 0).
    public func claim(_ path: String) throws(Unclaimed) -> PluginInstance {
        var best: (PluginInstance, UInt32)?
        for plugin in plugins {
            guard let api = try? plugin.modelAPI(), let probe = api.table.pointee.probe else { continue }
            var score: UInt32 = 0
            let status = try? plugin.withControl { handle throws(PluginError) -> Int32 in path.withCString { probe(handle, $0, &score) } }
            if status == 0, score > (best?.1 ?? 0) { best = (plugin, score) }
        }
        guard let (plugin, _) = best else {
            let refused = refusals.map(\.description).joined(separator: "; ")
            throw Unclaimed(description: "no plugin claims '\(path)' (plugins: \(plugins.map(\.descriptor.id)))\(refused.isEmpty ? "" : "; refused: \(refused)")")
        }
        return plugin
    }
}
