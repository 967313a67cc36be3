/// The text side of a token model: its tokenizer and chat template, built from the model file's own metadata, and
/// the two ways a request becomes prompt tokens (a completion prompt, or a rendered chat).
public struct TextFrontend: Sendable {
    public let modelName: String
    public let tokenizer: any Tokenizer
    /// Source of the model's chat template, or nil when the model has none (a base model).
    public let chatTemplateSource: String?
    private let bosText: String?
    private let eosText: String?

    /// Why a model's text front-end could not be built.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the tokenizer and chat template from a GGUF file.
    public static func load(path: String, modelName: String) throws(LoadError) -> TextFrontend {
        do {
            let file = try GGUFFile(path: path)
            let tokenizer = try TokenizerLoader.load(from: file)
            let template = file.metadata["tokenizer.chat_template"]?.string
            func text(_ token: Int32?) -> String? {
                token.map { String(decoding: tokenizer.piece($0, special: true), as: UTF8.self) }
            }
            return TextFrontend(modelName: modelName, tokenizer: tokenizer, chatTemplateSource: template,
                                bosText: text(tokenizer.bos), eosText: text(tokenizer.eos))
        } catch let error as GGUFError {
            throw LoadError(description: "\(path): \(error)")
        } catch {
            throw LoadError(description: "\(path): \(error)")
        }
    }

    /// Tokens of a completion prompt: special tokens added as the vocabulary asks (BOS for Gemma, none for SmolLM2),
    /// special-token text in the prompt treated as plain text.
    public func completionTokens(_ prompt: String) -> [Int32] {
        tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
    }

    /// Tokens of a chat: the model's own template rendered with add_generation_prompt, special tokens parsed.
    /// Fails with `noChatTemplate` for a model that has none.
    public func chatTokens(_ messages: [ChatMessage]) throws(ChatTemplateError) -> [Int32] {
        let template = try ChatTemplate.forModel(modelName, source: chatTemplateSource, bosToken: bosText, eosToken: eosText)
        let text = try template.render(messages)
        // A template that writes the BOS text itself must not get a second BOS from the tokenizer.
        let addSpecial = !(bosText.map { !$0.isEmpty && text.hasPrefix($0) } ?? false)
        return tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: true)
    }

    /// Token ids that end generation (EOS, EOT and the model's other end-of-generation tokens).
    public var stopTokens: [Int32] { Array(tokenizer.vocabulary.endOfGeneration).sorted() }

    /// A detokenizer for streaming this model's output.
    public func detokenizer() -> IncrementalDetokenizer {
        let tokenizer = self.tokenizer
        return IncrementalDetokenizer { tokenizer.piece($0, special: false) }
    }
}
