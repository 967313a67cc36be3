import HostCore

/// The JSON Schema that constrains a tool-calling reply to the envelope the prompt asks for:
/// `{"tool_call": {"name": N, "arguments": {...}}}` or `{"response": "..."}`.
///
/// Each tool is its own `anyOf` branch (name a `const`, arguments that tool's parameters), so a name is always
/// followed by arguments of that tool. The text is written by hand because the grammar emits object keys in
/// schema order: `name` must come before `arguments`, `tool_call` is the only key of its object.
enum ToolSchema {
    /// The schema text for `tools` under `choice` (not `.none`).
    static func text(tools: [ToolDefinition], choice: ToolChoice) -> String {
        var branches: [String] = []
        var definitions: [String] = []
        for (index, tool) in tools.enumerated() where choice.allows(tool) {
            let key = definitionKey(index)
            definitions.append(quoted(key) + ":" + relocated(tool.parameters, under: "#/$defs/" + key).jsonText)
            branches.append(object(key: "tool_call", value: """
                {"type":"object","properties":{"name":{"const":\(quoted(tool.name))},\
                "arguments":{"$ref":"#/$defs/\(key)"}},"required":["name","arguments"],"additionalProperties":false}
                """))
        }
        if choice == .auto {
            branches.append(object(key: "response", value: #"{"type":"string"}"#))
        }
        let defs = #""$defs":{"# + definitions.joined(separator: ",") + "}"
        if branches.count == 1 {
            return String(branches[0].dropLast()) + "," + defs + "}"
        }
        return #"{"anyOf":["# + branches.joined(separator: ",") + "]," + defs + "}"
    }

    /// The `$defs` key of tool `index`; schema paths under it name that tool in errors.
    static func definitionKey(_ index: Int) -> String { "tool\(index)" }

    /// A constraint error's text with the schema paths of tool parameters rewritten to the request's field names.
    static func describe(_ message: String, toolCount: Int) -> String {
        var message = message
        for index in (0..<toolCount).reversed() {  // tool10 before tool1
            message = message.replacing("#/$defs/" + definitionKey(index), with: "tools[\(index)].function.parameters")
        }
        return message
    }

    /// An object schema with exactly the one required property `key`.
    private static func object(key: String, value: String) -> String {
        #"{"type":"object","properties":{"# + quoted(key) + ":" + value + #"},"required":["# + quoted(key)
            + #"],"additionalProperties":false}"#
    }

    private static func quoted(_ text: String) -> String { JSONValue.string(text).jsonText }

    /// `schema` with its local references (`#/...`) pointing into `base`, where it now lives. Values of `const`,
    /// `enum`, `default` and `examples` are data, not schemas, and stay as they are; the members of `properties`
    /// and `$defs` are schemas whatever their names.
    private static func relocated(_ schema: JSONValue, under base: String, namedSchemas: Bool = false) -> JSONValue {
        switch schema {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, value) in members {
                if namedSchemas {
                    result[key] = relocated(value, under: base)
                } else if key == "$ref", case .string(let pointer) = value, pointer.hasPrefix("#") {
                    result[key] = .string(base + pointer.dropFirst())
                } else if ["const", "enum", "default", "examples"].contains(key) {
                    result[key] = value
                } else {
                    let named = ["properties", "$defs", "definitions"].contains(key)
                    result[key] = relocated(value, under: base, namedSchemas: named)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map { relocated($0, under: base) })
        default:
            return schema
        }
    }
}

extension ToolChoice {
    /// Whether the model may call `tool`.
    func allows(_ tool: ToolDefinition) -> Bool {
        switch self {
        case .none: false
        case .auto, .required: true
        case .function(let name): tool.name == name
        }
    }
}
