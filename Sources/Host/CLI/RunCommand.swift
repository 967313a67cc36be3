import HostCore

/// `plexus run`: generate from a prompt given as token ids (the text front-end comes with the tokenizer).
enum RunCommand {
    static let usage = """
        usage: plexus run --model FILE (--prompt TEXT | --chat TEXT | --tokens ID,ID,...) [-n N] [--temperature T]
                          [--seed S] [--device cpu|cuda|cuda:N] [--plugins DIR]... [--option K=V]... [--dump-logits FILE]
                          [--ids]

          Loads FILE with the plugin that claims it and generates (greedy unless --temperature is given):
          --prompt  a completion prompt, tokenized with the model's own vocabulary
          --chat    one user message, rendered with the model's own chat template (an error for a model without one)
          --tokens  prompt token ids as they are
          --device  where the model runs: the CPU (default) or a GPU (an error "no GPU: ..." without one)
          Prints the generated text (or, with --tokens or --ids, the ids), then prefill and decode speed on stderr.
          Exit 0 on success, 1 when the model cannot be loaded or run, 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        guard let path = try arguments.value("--model") else { throw UsageError("--model FILE is required") }
        let prompt = try arguments.value("--prompt"), chat = try arguments.value("--chat"), list = try arguments.value("--tokens")
        guard [prompt, chat, list].compactMap({ $0 }).count == 1 else { throw UsageError("give exactly one of --prompt, --chat, --tokens") }
        let showIDs = arguments.flag("--ids") || list != nil
        var ids: [Int32] = []
        if let list {
            ids = list.split(separator: ",").compactMap { Int32($0.trimmingPrefix(" ")) }
            guard !ids.isEmpty, ids.count == list.split(separator: ",").count else { throw UsageError("--tokens must be comma-separated integers") }
        }
        let count = try arguments.value("-n").map { (text: String) throws(UsageError) -> UInt32 in
            guard let n = UInt32(text), n > 0 else { throw UsageError("-n needs a positive integer") }
            return n
        } ?? 32
        var input = LLMRequestInput(promptTokenCount: 0, maxNewTokens: count)
        if let temperature = try arguments.value("--temperature") {
            guard let t = Float(temperature), t >= 0 else { throw UsageError("--temperature needs a number >= 0") }
            input.temperature = t
        }
        if let seed = try arguments.value("--seed") {
            guard let s = UInt64(seed) else { throw UsageError("--seed needs an unsigned integer") }
            input.seed = s
        }
        let dump = try arguments.value("--dump-logits")
        let options = try arguments.keyValues("--option")
        let directories = try arguments.values("--plugins")
        let device = try arguments.device()
        try arguments.finish()
        do {
            let session = try ModelSession.open(path: path, pluginDirectories: directories, environment: ProcessEnvironment.current(),
                                                options: options, device: device)
            var frontend: TextFrontend?
            if list == nil {
                let text = try TextFrontend.load(path: path, modelName: path.split(separator: "/").last.map(String.init) ?? path)
                ids = try chat.map { try text.chatTokens([.user($0)]) } ?? text.completionTokens(prompt ?? "")
                input.stopTokens = text.stopTokens
                frontend = text
            }
            let result = try session.runner.generate(prompt: ids, input: input, wantLogits: dump != nil)
            if let dump, let logits = result.promptLogits { try BinaryFile.write(logits, to: dump) }
            if showIDs || frontend == nil {
                Output.line(result.tokens.map(String.init).joined(separator: ","))
            } else if var detokenizer = frontend?.detokenizer() {
                Output.line(detokenizer.feed(result.tokens.filter { !(frontend?.tokenizer.isEndOfGeneration($0) ?? false) }) + detokenizer.finish())
            }
            let prefill = Double(result.promptTokens) / max(result.prefillSeconds, 1e-9)
            let decode = Double(max(result.tokens.count - 1, 0)) / max(result.decodeSeconds, 1e-9)
            Output.error("prompt \(result.promptTokens) tokens at \(FixedPoint.format(prefill, 1)) tokens/s; \(result.tokens.count) generated at \(FixedPoint.format(decode, 1)) tokens/s")
            return 0
        } catch {
            Output.error("plexus: \(error)")
            return 1
        }
    }
}
