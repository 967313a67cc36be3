import Glibc
import HostCore

/// `plexus plugin check|list`.
enum PluginCommand {
    static let usage = """
        usage: plexus plugin check FILE.so [--model PATH] [--option KEY=VALUE]... [--threads N] [--timeout SECONDS]
               plexus plugin list [--plugins DIR]...

          check   run a plugin through the ABI contract; one PASS/FAIL/SKIP line per check; exit 0 only if none failed.
                  The checks run in a child process, so a plugin that crashes or hangs fails the check instead.
                  --model PATH      a model file the plugin can load (enables the model and request checks)
                  --option K=V      a catalog option passed to model_create (repeatable)
                  --threads N       CPU worker threads (default: one per core)
                  --timeout S       give up after S seconds (default 300)
          list    load every plugin on the search path and show what serves and what was refused:
                  --plugins DIR (repeatable), then $PLEXUS_PLUGIN_PATH, then beside the executable.
                  Exit 0 even when plugins are refused (each refusal is one line on stderr).
          Exit 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let verb = try arguments.positional("a plugin command (check or list)")
        switch verb {
        case "check": return try check(arguments)
        case "list": return try list(arguments)
        default: throw UsageError("unknown plugin command '\(verb)'")
        }
    }

    private static func check(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let inProcess = arguments.flag("--in-process")
        let model = try arguments.value("--model")
        let options = try arguments.keyValues("--option")
        let threads = try arguments.threads()
        let timeout = try arguments.value("--timeout").map { (text: String) throws(UsageError) -> Int in
            guard let seconds = Int(text), seconds > 0 else { throw UsageError("--timeout needs a positive number of seconds") }
            return seconds
        } ?? 300
        let file = try arguments.positional("the plugin file")
        try arguments.finish()
        if inProcess {
            let checker = PluginChecker(path: file, modelPath: model, options: options, threads: threads) { result in
                Output.line(result.line)
            }
            let passed = checker.run()
            Output.line(checker.summary)
            return passed ? 0 : 1
        }
        return isolated(CommandLine.arguments, timeout: timeout)
    }

    /// Re-runs this command in a child with --in-process and reports a crash or hang as a failure.
    private static func isolated(_ original: [String], timeout: Int) -> Int32 {
        let executable = PluginSearchPath.executablePath() ?? original[0]
        let childArguments = [executable] + original.dropFirst() + ["--in-process"]
        var last = "(no check finished)"
        let ending = ChildProcess.run(childArguments, timeoutSeconds: timeout) { line in
            Output.line(line)
            last = line
        }
        switch ending {
        case .exited(let code):
            return code
        case .signalled(let signal):
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            Output.line("FAIL plugin crashed: the process died of signal \(signal) (\(name)); last line before it: \(last)")
            return 1
        case .timedOut:
            Output.line("FAIL plugin hung: no end after \(timeout) s; last line before it: \(last)")
            return 1
        }
    }

    private static func list(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        let directories = try arguments.values("--plugins")
        try arguments.finish()
        let environment = ProcessEnvironment.current()
        let searchPath = PluginSearchPath.resolve(commandLine: directories, environment: environment)
        let loader = PluginLoader(memory: HostMemory(), cpu: CPUDevice(threads: 1)) { line in Output.error(line) }
        let report = loader.loadAll(searchPath)
        for plugin in report.plugins {
            let d = plugin.descriptor
            Output.line("\(d.id)\t\(d.version)\t\(d.name)\t\(plugin.library.path)")
        }
        for refusal in report.refusals { Output.error("plexus: refused plugin \(refusal.description)") }
        if report.plugins.isEmpty { Output.error("plexus: no plugins found in \(searchPath.directories)") }
        return 0
    }
}
