/// A function call in a reply (OpenAI's ChatCompletionMessageToolCall): `{id, type: "function", function: {name,
/// arguments}}`, the arguments as JSON text.
struct WireToolCall: Encodable, Sendable, Equatable {
    var id: String
    var type = "function"
    var function: Function

    struct Function: Encodable, Sendable, Equatable {
        var name: String
        var arguments: String
    }

    /// A call of `name` with `arguments` under a fresh id (`call_` and 24 letters and digits).
    init(name: String, arguments: String) {
        id = ResponseID.make("call", separator: "_")
        function = Function(name: name, arguments: arguments)
    }
}

/// A function call in a streamed delta (OpenAI's ChoiceDeltaToolCall): `index` says which call of the message
/// it adds to; the first delta of a call carries `id`, `type` and the name, later ones only more arguments.
/// Plexus sends each call whole, in one delta.
struct WireToolCallDelta: Encodable, Sendable, Equatable {
    var index: Int
    var id: String
    var type = "function"
    var function: WireToolCall.Function

    init(index: Int, _ call: WireToolCall) {
        self.index = index
        id = call.id
        type = call.type
        function = call.function
    }
}
