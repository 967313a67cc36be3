import HostCore

/// `plexus run`: generate from a prompt given as token ids (the text front-end comes with the tokenizer).
enum RunCommand {
    static let usage = """
        usage: plexus run --model FILE --tokens ID,ID,... [-n N] [--temperature T] [--seed S] [--plugins DIR]... [--option K=V]... [--dump-logits FILE]

          Loads FILE with the plugin that claims it, feeds the prompt token ids, and prints the generated ids
          (greedy unless --temperature is given), then prefill and decode speed.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        var arguments = arguments
        guard let path = try arguments.value("--model") else { throw UsageError("--model FILE is required") }
        guard let list = try arguments.value("--tokens") else { throw UsageError("--tokens ID,ID,... is required") }
        let prompt = list.split(separator: ",").compactMap { Int32($0.trimmingPrefix(" ")) }
        guard !prompt.isEmpty, prompt.count == list.split(separator: ",").count else { throw UsageError("--tokens must be comma-separated integers") }
        let count = try arguments.value("-n").map { (text: String) throws(UsageError) -> UInt32 in
            guard let n = UInt32(text), n > 0 else { throw UsageError("-n needs a positive integer") }
            return n
        } ?? 32
        var input = LLMRequestInput(promptTokenCount: UInt32(prompt.count), maxNewTokens: count)
        if let temperature = try arguments.value("--temperature") {
            guard let t = Float(temperature), t >= 0 else { throw UsageError("--temperature needs a number >= 0") }
            input.temperature = t
        }
        if let seed = try arguments.value("--seed") {
            guard let s = UInt64(seed) else { throw UsageError("--seed needs an unsigned integer") }
            input.seed = s
        }
        let dump = try arguments.value("--dump-logits")
        let options = try arguments.values("--option").map { (pair: String) throws(UsageError) -> (String, String) in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError("--option needs KEY=VALUE, got '\(pair)'")
            }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
        let directories = try arguments.values("--plugins")
        try arguments.finish()
        do {
            let session = try ModelSession.open(path: path, pluginDirectories: directories, environment: ProcessEnvironment.current(),
                                           options: options)
            let result = try session.runner.generate(prompt: prompt, input: input, wantLogits: dump != nil)
            if let dump, let logits = result.promptLogits { try BinaryFile.write(logits, to: dump) }
            Output.line(result.tokens.map(String.init).joined(separator: ","))
            let prefill = Double(result.promptTokens) / max(result.prefillSeconds, 1e-9)
            let decode = Double(max(result.tokens.count - 1, 0)) / max(result.decodeSeconds, 1e-9)
            Output.error("prefill \(result.promptTokens) tokens: \(FixedPoint.format(prefill, 1)) tokens/s; decode: \(FixedPoint.format(decode, 1)) tokens/s")
            return 0
        } catch {
            Output.error("plexus: \(error)")
            return 1
        }
    }
}
