import Glibc
import HostCore
import Synchronization

/// Builds the fixture plugins of Tests/Fixtures with the C compiler (one variant per break flag) and the files
/// the tests feed them. Everything lands in .build/test-fixtures, built once per test run.
enum Fixtures {
    /// The package root, from this file's path (Tests/HostCoreTests/Support/Fixtures.swift).
    static let root: String = {
        // A bundle run on another machine (scripts/gpu-check) points at its copy of the tree.
        if let value = getenv("PLEXUS_SOURCE_ROOT"), value.pointee != 0 { return String(cString: value) }
        var path = #filePath
        for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    static let directory = root + "/.build/test-fixtures"
    private static let buildLock = Mutex<Set<String>>([])

    /// The well-behaved fixture, built as `libplexus-<name>.so` in its own folder unless `folder` is given.
    static func plugin(_ name: String, defines: [String] = [], folder: String? = nil,
                       source: String = "\(root)/Tests/Fixtures/fixture_plugin.c") -> String {
        let folder = folder ?? "\(directory)/\(name)"
        let output = "\(folder)/libplexus-\(name).so"
        buildLock.withLock { built in
            guard !built.contains(output) else { return }
            mkdir(directory, 0o755)
            mkdir(folder, 0o755)
            let arguments = ["/usr/bin/env", "cc", "-std=c11", "-O1", "-fPIC", "-shared", "-fvisibility=hidden",
                             "-Wall", "-Wextra", "-Werror", "-I\(root)/Sources/PluginABI/include"]
                + defines.map { "-D\($0)" } + ["-o", output, source]
            var log: [String] = []
            let ending = ChildProcess.run(arguments, timeoutSeconds: 120, mergeStandardError: true) { log.append($0) }
            precondition(ending == .exited(0), "building fixture \(name) failed: \(log.joined(separator: "\n"))")
            built.insert(output)
        }
        return output
    }

    /// A model file the fixture accepts.
    static var modelFile: String {
        let path = "\(directory)/model.pxfixture"
        write("PXFIXTURE counting model\n", to: path)
        return path
    }

    /// The text of a file of the package.
    static func read(_ relativePath: String) -> String {
        let fd = open("\(root)/\(relativePath)", O_RDONLY)
        precondition(fd >= 0, "cannot read \(relativePath)")
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while case let count = Glibc.read(fd, &chunk, chunk.count), count > 0 { bytes += chunk[..<count] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A file with arbitrary content.
    static func file(_ name: String, contents: String) -> String {
        let path = "\(directory)/\(name)"
        write(contents, to: path)
        return path
    }

    /// The `plexus` executable built beside the test bundle (`make test` builds it first).
    static var executable: String {
        let bundle = PluginSearchPath.executablePath() ?? ""
        var folder = String(bundle[..<(bundle.lastIndex(of: "/") ?? bundle.startIndex)])
        while !folder.isEmpty && access(folder + "/plexus", X_OK) != 0 {
            folder = String(folder[..<(folder.lastIndex(of: "/") ?? folder.startIndex)])
        }
        return folder + "/plexus"
    }

    /// Runs a command; returns its exit and its output lines (stdout and stderr).
    static func run(_ arguments: [String]) -> (ending: ChildProcess.Ending, lines: [String]) {
        var lines: [String] = []
        let ending = ChildProcess.run(arguments, timeoutSeconds: 120, mergeStandardError: true) { lines.append($0) }
        return (ending, lines)
    }

    private static func write(_ text: String, to path: String) {
        mkdir(directory, 0o755)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot write \(temporary)")
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, path)
    }
}
