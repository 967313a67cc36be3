import Testing
@testable import HostCore

/// How conversations reach the template: what transformers passes, and the typed errors around it.
@Suite struct ChatTemplateTests {
    private let chatML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"

    @Test func aModelWithoutATemplateCannotChat() {
        for source in [nil, ""] as [String?] {
            #expect(throws: ChatTemplateError.noChatTemplate(model: "base-7b")) {
                try ChatTemplate.forModel("base-7b", source: source, bosToken: "<s>", eosToken: "</s>")
            }
        }
        #expect(ChatTemplateError.noChatTemplate(model: "m").description.contains("/v1/completions"))
    }

    @Test func aBrokenTemplateIsRefusedWithItsLocation() {
        do {
            _ = try ChatTemplate(source: "{% for m in messages %}\n{{ m.content }")
            Issue.record("accepted a broken template")
        } catch .invalidTemplate(let error) {
            #expect(error.line == 2 && error.kind == .syntax, "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func rendersAConversationWithAGenerationPrompt() throws {
        let template = try ChatTemplate(source: chatML)
        let text = try template.render([.system("Be brief."), .user("Hi")])
        #expect(text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let closed = try template.render([.user("Hi"), .assistant("Hello")], options: .init(addGenerationPrompt: false))
        #expect(closed == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n")
    }

    @Test func passesWhatTransformersPasses() throws {
        let probe = try ChatTemplate(source: "{{ tools is none }} {{ documents is none }} {{ bos_token is defined }} "
                                        + "{{ eos_token }} {{ enable_thinking }}", eosToken: "</s>")
        let text = try probe.render([], options: .init(variables: ["enable_thinking": false]))
        #expect(text == "True True False </s> False")
        let withTools = try ChatTemplate(source: "{{ tools | map(attribute='function.name') | join(',') }}")
        let tools: [TemplateValue] = [["type": "function", "function": ["name": "a"]], ["type": "function", "function": ["name": "b"]]]
        #expect(try withTools.render([], options: .init(tools: tools)) == "a,b")
    }

    @Test func contentPartsAreJoinedUnlessTheTemplateIteratesThem() throws {
        let parts = ChatMessage(role: "user", content: .parts([.text("One."), .image(url: "data:,"), .text("Two.")]))
        let plain = try ChatTemplate(source: chatML)
        #expect(!plain.takesContentParts)
        #expect(try plain.render([parts], options: .init(addGenerationPrompt: false)) == "<|im_start|>user\nOne.\nTwo.<|im_end|>\n")
        let iterating = try ChatTemplate(source: "{% for m in messages %}{% for p in m['content'] %}[{{ p.type }}{{ p.text }}]{% endfor %}{% endfor %}")
        #expect(iterating.takesContentParts)
        #expect(try iterating.render([parts]) == "[textOne.][image][textTwo.]")
    }

    @Test func toolCallsCarryParsedArguments() throws {
        let call = ChatMessage(role: "assistant", content: nil, toolCalls: [
            .init(id: "call_1", name: "get_weather", arguments: #"{"city": "Zürich", "days": 2}"#),
            .init(id: "call_2", name: "raw", arguments: "not json"),
        ])
        let value = call.templateValue(partsAsList: false)
        #expect(value == ["role": "assistant", "content": nil, "tool_calls": [
            ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": ["city": "Zürich", "days": 2]]],
            ["id": "call_2", "type": "function", "function": ["name": "raw", "arguments": "not json"]],
        ]])
        let template = try ChatTemplate(source: "{% for c in messages[0].tool_calls %}{{ c.function.arguments | tojson }};{% endfor %}")
        #expect(try template.render([call]) == #"{"city": "Zürich", "days": 2};"not json";"#)
        #expect(ChatMessage.tool("21 °C", callID: "call_1").templateValue(partsAsList: false)
                == ["role": "tool", "content": "21 °C", "tool_call_id": "call_1"])
    }

    @Test func aTemplateThatRejectsTheConversationIsTheClientsError() throws {
        let template = try ChatTemplate(source: "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}")
        do {
            _ = try template.render([.system("x")])
            Issue.record("rendered")
        } catch {
            guard case .renderFailed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.kind == .raised)
            #expect(error.description == "System role not supported")
        }
    }
}
