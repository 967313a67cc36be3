import Glibc
import HostCore

/// `plexus models`: the catalog's models, whether each one's weights are there and good, and which plugin claims them.
enum ModelsCommand {
    static let usage = """
        usage: plexus models [--catalog FILE] [--plugins DIR]... [--json]

          Lists the models `plexus serve` would serve with the same arguments: those of --catalog FILE
          (Specs/catalog.md), or the default catalog (smollm2-135m-instruct, gemma3-270m) in the model cache
          ($PLEXUS_MODEL_CACHE, else $XDG_CACHE_HOME/plexus/models, else ~/.cache/plexus/models).
          For each: its status, the plugin that claims its weights, their size and path. Status is one of
            verified    in the cache with the expected size and sha256 (default catalog)
            present     readable (a catalog file names no checksum)
            missing     not in the cache: `plexus serve` fetches it (default catalog); unusable in a catalog file
            mismatch    in the cache but not the expected file: `plexus serve` deletes it and fetches it again
            unreadable  the file exists but cannot be read (unusable)
            unclaimed   no plugin on the search path claims the file (unusable)
          --plugins DIR  where to look for plugins first (then $PLEXUS_PLUGIN_PATH, then beside the executable)
          --json         one JSON array of {id, status, detail, usable, plugin, bytes, file}

          Exit 0 when every model is usable (or will be fetched), 1 when some model is unusable, 2 on a usage
          error or an invalid catalog.
        """

    /// One model's line.
    struct Row {
        var id: String
        var status: String
        var detail = ""
        var usable = true
        var plugin: String?
        var bytes: UInt64?
        var file: String
    }

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let json = arguments.flag("--json")
        let catalogPath = try arguments.value("--catalog")
        let directories = try arguments.values("--plugins")
        try arguments.finish()
        let environment = ProcessEnvironment.current()
        let loader = PluginLoader(memory: HostMemory(), cpu: CPUDevice(threads: 1)) { _ in }
        let plugins = loader.loadAll(PluginSearchPath.resolve(commandLine: directories, environment: environment))
        var rows: [Row]
        if let catalogPath {
            let catalog: Catalog
            do { catalog = try CatalogLoader.load(path: catalogPath, environment: environment, checksWeights: false) } catch {
                Output.error("plexus: invalid catalog: \(error)")
                return 2
            }
            rows = catalog.models.map { row($0, plugins: plugins) }
        } else {
            let fetcher = ModelFetcher(cache: DefaultCatalog.cacheFolder(environment: environment))
            rows = DefaultCatalog.downloads.map { row($0, fetcher: fetcher, plugins: plugins) }
        }
        if json { Output.line("[" + rows.map(self.json).joined(separator: ", ") + "]") } else { table(rows) }
        return rows.allSatisfy(\.usable) ? 0 : 1
    }

    /// A model of a catalog file: its first weight file decides (that is the file the plugins probe).
    private static func row(_ model: Catalog.Model, plugins: PluginLoadReport) -> Row {
        let file = model.weights[0]
        var row = Row(id: model.id, status: "present", file: file)
        for path in model.weights where access(path, R_OK) != 0 {
            let code = errno
            row.status = code == ENOENT ? "missing" : "unreadable"
            row.detail = "\(path): \(String(cString: strerror(code)))"
            row.usable = false
            return row
        }
        var info = stat()
        row.bytes = model.weights.reduce(0) { total, path in stat(path, &info) == 0 ? total + UInt64(info.st_size) : total }
        claim(&row, plugins: plugins)
        return row
    }

    /// A model of the default catalog, checked against its expected size and sha256.
    private static func row(_ download: ModelDownload, fetcher: ModelFetcher, plugins: PluginLoadReport) -> Row {
        var row = Row(id: download.id, status: "verified", detail: download.serves, bytes: download.size, file: fetcher.path(download))
        switch fetcher.state(download) {
        case .verified:
            claim(&row, plugins: plugins)
        case .missing:
            row.status = "missing"
            row.detail = "plexus serve fetches it from PyPI (\(download.requirement))"
        case .mismatch(let reason):
            row.status = "mismatch"
            row.detail = "\(reason); plexus serve fetches it again"
        case .unreadable(let reason):
            row.status = "unreadable"
            row.detail = reason
            row.usable = false
        }
        return row
    }

    private static func claim(_ row: inout Row, plugins: PluginLoadReport) {
        do { row.plugin = try plugins.claim(row.file).descriptor.id } catch {
            row.status = "unclaimed"
            row.detail = error.description
            row.usable = false
        }
    }

    private static func table(_ rows: [Row]) {
        let idWidth = max(2, rows.map(\.id.count).max() ?? 0) + 1
        let pluginWidth = max(6, rows.map { ($0.plugin ?? "-").count }.max() ?? 0) + 1
        Output.line("ID".padding(idWidth) + "STATUS".padding(11) + "PLUGIN".padding(pluginWidth) + "SIZE".padding(11) + "FILE")
        for row in rows {
            let size = row.bytes.map { FixedPoint.mebibytes(UInt64($0)) } ?? "-"
            Output.line(row.id.padding(idWidth) + row.status.padding(11) + (row.plugin ?? "-").padding(pluginWidth)
                        + size.padding(11) + row.file + (row.detail.isEmpty ? "" : "  (\(row.detail))"))
        }
    }

    private static func json(_ row: Row) -> String {
        "{\"id\": \(quoted(row.id)), \"status\": \(quoted(row.status)), \"detail\": \(quoted(row.detail)), "
            + "\"usable\": \(row.usable), \"plugin\": \(row.plugin.map(quoted) ?? "null"), "
            + "\"bytes\": \(row.bytes.map(String.init) ?? "null"), \"file\": \(quoted(row.file))}"
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += "\\u00" + String(scalar.value, radix: 16).leftPadded(2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
