import Testing
@testable import HostCore

/// Every rendering must equal jinja2's byte for byte (Golden/make_template_golden.py renders them with jinja2 set up
/// exactly as transformers sets it up for chat templates).
@Suite struct TemplateGoldenTests {
    @Test(arguments: TemplateGolden.chatCases)
    func chatTemplateMatchesJinja2(_ golden: TemplateGolden.ChatCase) throws {
        let info = try #require(TemplateGolden.templates[golden.template])
        let template = try ChatTemplate(source: info.source, bosToken: info.bosToken, eosToken: info.eosToken,
                                        clock: { TemplateGolden.fixedClock })
        #expect(template.takesContentParts == info.takesParts, "content format of \(golden.template)")
        let options = ChatTemplate.Options(addGenerationPrompt: golden.addGenerationPrompt, tools: golden.tools,
                                           variables: golden.variables)
        switch golden.outcome {
        case .text(let expected):
            let rendered = try template.render(golden.messages, options: options)
            #expect(rendered == expected, "\(golden)\n--- got:\n\(rendered)\n--- jinja2:\n\(expected)")
        case .failure(let type, let message, _):
            #expect(throws: (any Error).self) { try template.render(golden.messages, options: options) }
            do {
                _ = try template.render(golden.messages, options: options)
            } catch .renderFailed(let error) {
                #expect(error.kind == TemplateGolden.kind(of: type), "\(error)")
                if type == "TemplateError" { #expect(error.message == message) }
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test(arguments: TemplateGolden.snippets)
    func snippetMatchesJinja2(_ golden: TemplateGolden.Snippet) {
        let template: Template
        do {
            template = try Template(golden.source)
        } catch {
            guard case .failure(let type, _, let line) = golden.outcome, TemplateGolden.isCompileError(type) else {
                Issue.record("\(golden): parse failed: \(error)")
                return
            }
            if let line { #expect(error.line == line, "\(error)") }
            return
        }
        do {
            let rendered = try template.render(TemplateGolden.snippetContext, clock: { TemplateGolden.fixedClock })
            guard case .text(let expected) = golden.outcome else {
                Issue.record("\(golden): rendered \(rendered.debugDescription), jinja2 failed: \(golden.outcome)")
                return
            }
            #expect(rendered == expected, "\(golden)")
        } catch {
            guard case .failure(let type, let message, _) = golden.outcome, !TemplateGolden.isCompileError(type) else {
                Issue.record("\(golden): \(error)")
                return
            }
            #expect(error.kind == TemplateGolden.kind(of: type), "\(error)")
            if type == "TemplateError" { #expect(error.message == message) }
        }
    }
}

/// The golden file, decoded with the interpreter's own JSON reader (which the JSON tests check separately).
enum TemplateGolden {
    struct TemplateInfo: Sendable {
        let source: String
        let takesParts: Bool
        let bosToken: String?
        let eosToken: String?
    }

    enum Outcome: Sendable, CustomStringConvertible {
        case text(String)
        case failure(type: String, message: String, line: Int?)

        var description: String {
            switch self {
            case .text(let text): return text.debugDescription
            case .failure(let type, let message, let line): return "\(type)(\(message)) line \(line.map(String.init) ?? "-")"
            }
        }
    }

    struct ChatCase: Sendable, CustomTestStringConvertible {
        let template: String
        let conversation: String
        let messages: [ChatMessage]
        let tools: [TemplateValue]?
        let addGenerationPrompt: Bool
        let variables: [String: TemplateValue]
        let outcome: Outcome

        var testDescription: String {
            "\(template) \(conversation)\(variables.isEmpty ? "" : " \(variables)") generation=\(addGenerationPrompt)"
        }
    }

    struct Snippet: Sendable, CustomTestStringConvertible {
        let source: String
        let outcome: Outcome
        var testDescription: String { source.debugDescription }
    }

    static let root: TemplateObject = {
        guard case .object(let object) = try! TemplateJSON.decode(Fixtures.read("Tests/HostCoreTests/Golden/template_golden.json")) else {
            fatalError("template_golden.json is not an object")
        }
        return object
    }()

    static let fixedClock = root["fixed_clock"]!.integer!

    static let templates: [String: TemplateInfo] = {
        var templates: [String: TemplateInfo] = [:]
        for (name, value) in object(root["templates"]).pairs {
            let info = object(value)
            templates[name] = TemplateInfo(source: info["source"]!.stringValue!, takesParts: info["content_format"] == "openai",
                                           bosToken: info["bos_token"]?.stringValue, eosToken: info["eos_token"]?.stringValue)
        }
        return templates
    }()

    static let chatCases: [ChatCase] = array(root["chat_cases"]).map { value in
        let item = object(value)
        let tools: [TemplateValue]? = if case .array(let list) = item["tools"] { list } else { nil }
        return ChatCase(template: item["template"]!.stringValue!, conversation: item["conversation"]!.stringValue!,
                        messages: array(item["messages"]).map(chatMessage), tools: tools,
                        addGenerationPrompt: item["add_generation_prompt"]!.isTruthy,
                        variables: Dictionary(uniqueKeysWithValues: object(item["extra"]).pairs.map { ($0.key, $0.value) }),
                        outcome: outcome(item))
    }

    static let snippetContext: [String: TemplateValue] =
        Dictionary(uniqueKeysWithValues: object(root["snippet_context"]).pairs.map { ($0.key, $0.value) })

    static let snippets: [Snippet] = array(root["snippets"]).map { value in
        let item = object(value)
        return Snippet(source: item["source"]!.stringValue!, outcome: outcome(item))
    }

    /// jinja2's exception types that it raises while compiling (before any rendering).
    static func isCompileError(_ type: String) -> Bool {
        ["TemplateSyntaxError", "TemplateAssertionError", "SyntaxError"].contains(type)
    }

    /// The error kind expected for a Python exception type raised while rendering.
    static func kind(of type: String) -> TemplateError.Kind {
        switch type {
        case "TemplateError": return .raised
        case "UndefinedError": return .undefined
        default: return .type
        }
    }

    /// An OpenAI wire message (as the golden stores it) as a ChatMessage.
    static func chatMessage(_ value: TemplateValue) -> ChatMessage {
        let item = object(value)
        var content: ChatMessage.Content?
        switch item["content"] {
        case .string(let text)?: content = .text(text)
        case .array(let parts)?:
            content = .parts(parts.map { part in
                let fields = object(part)
                if fields["type"] == "text" { return .text(fields["text"]!.stringValue!) }
                return .image(url: object(fields["image_url"])["url"]!.stringValue!)
            })
        default: content = nil
        }
        let calls = array(item["tool_calls"] ?? .array([])).map { call in
            let fields = object(call)
            let function = object(fields["function"])
            return ChatMessage.ToolCall(id: fields["id"]!.stringValue!, name: function["name"]!.stringValue!,
                                        arguments: function["arguments"]!.stringValue!)
        }
        return ChatMessage(role: item["role"]!.stringValue!, content: content, name: item["name"]?.stringValue,
                           toolCalls: calls, toolCallID: item["tool_call_id"]?.stringValue,
                           reasoningContent: item["reasoning_content"]?.stringValue)
    }

    private static func outcome(_ item: TemplateObject) -> Outcome {
        if let expected = item["expected"]?.stringValue { return .text(expected) }
        let error = object(item["error"])
        return .failure(type: error["type"]!.stringValue!, message: error["message"]!.stringValue!, line: error["line"]?.integer)
    }

    private static func object(_ value: TemplateValue?) -> TemplateObject {
        guard case .object(let object)? = value else { fatalError("expected an object, got \(String(describing: value))") }
        return object
    }

    private static func array(_ value: TemplateValue?) -> [TemplateValue] {
        guard case .array(let items)? = value else { fatalError("expected an array, got \(String(describing: value))") }
        return items
    }
}
