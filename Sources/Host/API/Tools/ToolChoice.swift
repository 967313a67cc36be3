import HostCore

/// OpenAI's `tool_choice`: whether the model may, must, or must not call a tool, or which one it must call.
enum ToolChoice: Sendable, Equatable {
    /// Plain chat: the tools are not shown to the model.
    case none
    /// The model either calls a tool or answers (the default when tools are offered).
    case auto
    /// The model calls one of the tools.
    case required
    /// The model calls this tool.
    case function(String)

    /// The choice a request asks for; nil (absent or null) means `auto` with tools and `none` without.
    static func decode(_ value: JSONValue?, hasTools: Bool) throws(APIError) -> ToolChoice {
        let choice: ToolChoice
        switch value {
        case nil, .null?: return hasTools ? .auto : .none
        case .string("none")?: return .none
        case .string("auto")?: choice = .auto
        case .string("required")?: choice = .required
        case .object(let object)?:
            guard object["type"] == .string("function"), case .object(let function)? = object["function"],
                  case .string(let name)? = function["name"] else {
                throw .invalid("tool_choice must be \"none\", \"auto\", \"required\" or "
                    + "{\"type\": \"function\", \"function\": {\"name\": ...}}.", param: "tool_choice")
            }
            choice = .function(name)
        default:
            throw .invalid("tool_choice must be \"none\", \"auto\", \"required\" or an object naming a function.",
                           param: "tool_choice")
        }
        guard hasTools else {
            throw .invalid("tool_choice is only allowed when tools are specified.", param: "tool_choice")
        }
        return choice
    }
}
