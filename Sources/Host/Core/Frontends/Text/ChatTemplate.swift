import Glibc

/// Why a chat prompt could not be built.
public enum ChatTemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model has no chat template, so /v1/chat/completions cannot serve it (/v1/completions can).
    case noChatTemplate(model: String)
    /// The model's template does not parse, or uses a filter or test this interpreter lacks.
    case invalidTemplate(TemplateError)
    /// Rendering failed. When `error.kind == .raised` the template rejected the conversation (e.g. "roles must
    /// alternate"): a client error. Otherwise the template broke on this input: a server-side problem.
    case renderFailed(TemplateError)

    public var description: String {
        switch self {
        case .noChatTemplate(let model):
            return "model '\(model)' has no chat template; use /v1/completions with a raw prompt"
        case .invalidTemplate(let error): return "the model's chat template is not usable: \(error)"
        case .renderFailed(let error):
            return error.kind == .raised ? error.message : "the model's chat template failed: \(error)"
        }
    }
}

/// A model's chat template: turns a conversation into the prompt text the model was trained on, byte for byte as
/// transformers' `apply_chat_template` would.
public struct ChatTemplate: Sendable {
    /// What a render passes to the template besides the messages.
    public struct Options: Sendable {
        /// Append the assistant turn header so the model answers next.
        public var addGenerationPrompt: Bool
        /// Tool definitions (OpenAI `tools` entries: `{"type": "function", "function": {...}}`), or nil for none.
        public var tools: [TemplateValue]?
        /// Other template variables (e.g. `enable_thinking` for Qwen3), as `chat_template_kwargs` would pass them.
        public var variables: [String: TemplateValue]
        /// Bounds on the render.
        public var limits: TemplateLimits

        /// Options for a chat completion: by default the generation prompt, no tools, standard limits.
        public init(addGenerationPrompt: Bool = true, tools: [TemplateValue]? = nil,
                    variables: [String: TemplateValue] = [:], limits: TemplateLimits = .standard) {
            self.addGenerationPrompt = addGenerationPrompt
            self.tools = tools
            self.variables = variables
            self.limits = limits
        }
    }

    /// The parsed template.
    public let template: Template
    /// The text of the model's BOS token (`bos_token` in the template), if it has one.
    public let bosToken: String?
    /// The text of the model's EOS token (`eos_token`).
    public let eosToken: String?
    /// Whether the template iterates over content parts (else parts are joined into one string).
    public let takesContentParts: Bool
    /// Unix time for `strftime_now`; the real clock unless a test fixes it.
    let clock: @Sendable () -> Int

    /// Parses a chat template.
    public init(source: String, bosToken: String? = nil, eosToken: String? = nil,
                clock: (@Sendable () -> Int)? = nil) throws(ChatTemplateError) {
        do {
            template = try Template(source)
        } catch {
            throw .invalidTemplate(error)
        }
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.takesContentParts = template.iteratesOverContent
        self.clock = clock ?? { Int(Glibc.time(nil)) }
    }

    /// The chat template of a model, from its metadata (GGUF `tokenizer.chat_template`); fails with
    /// `noChatTemplate` when the model has none.
    public static func forModel(_ model: String, source: String?, bosToken: String?,
                                eosToken: String?) throws(ChatTemplateError) -> ChatTemplate {
        guard let source, !source.isEmpty else { throw .noChatTemplate(model: model) }
        return try ChatTemplate(source: source, bosToken: bosToken, eosToken: eosToken)
    }

    /// The prompt text for a conversation.
    public func render(_ messages: [ChatMessage], options: Options = Options()) throws(ChatTemplateError) -> String {
        var context = options.variables
        context["messages"] = .array(messages.map { $0.templateValue(partsAsList: takesContentParts) })
        context["tools"] = options.tools.map(TemplateValue.array) ?? TemplateValue.none
        context["documents"] = TemplateValue.none
        context["add_generation_prompt"] = .bool(options.addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        do {
            return try template.render(context, limits: options.limits, clock: clock)
        } catch {
            throw .renderFailed(error)
        }
    }
}
