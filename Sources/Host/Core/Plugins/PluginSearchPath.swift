import Glibc

/// Where the host looks for plugins, in order: every `--plugins DIR`, each entry of `PLEXUS_PLUGIN_PATH`
/// (colon-separated), then the executable's own folder and its `plugins/` subfolder. Only files named
/// `libplexus-<name>.so` are considered, so that no unrelated library is ever opened (dlopen runs constructors).
public struct PluginSearchPath: Sendable, Equatable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The search path from the command line, the environment and the executable's location.
    public static func resolve(commandLine: [String], environment: [String: String],
                               executablePath: String? = PluginSearchPath.executablePath()) -> PluginSearchPath {
        var directories = commandLine
        if let variable = environment["PLEXUS_PLUGIN_PATH"] {
            directories += variable.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        if let executablePath, let slash = executablePath.lastIndex(of: "/") {
            let folder = String(executablePath[..<slash])
            directories += [folder.isEmpty ? "/" : folder, "\(folder)/plugins"]
        }
        return PluginSearchPath(directories: directories)
    }

    /// The running executable (/proc/self/exe), or nil.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Plugin files in search order, each real file once, sorted by name within a folder.
    public func pluginFiles() -> [String] {
        var seen = Set<String>()
        var files: [String] = []
        for directory in directories {
            for name in Self.entries(of: directory).sorted() where Self.isPluginFileName(name) {
                let path = directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)"
                let identity = Self.realPath(path) ?? path
                if seen.insert(identity).inserted { files.append(path) }
            }
        }
        return files
    }

    /// Whether a file name follows `libplexus-<name>.so`.
    public static func isPluginFileName(_ name: String) -> Bool {
        name.hasPrefix("libplexus-") && name.hasSuffix(".so") && name.count > "libplexus-.so".count
    }

    private static func entries(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
