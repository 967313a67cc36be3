import PluginABI

/// What the contract demands of one driven request, as a list of problems (empty = conforming).
enum RequestExpectations {
    static func problems(_ outcome: DrivenRequest, request index: Int, cancelled: Bool, kind: UInt32,
                         maxNewTokens: UInt32) -> [String] {
        let who = "request \(index + 1)"
        var problems = outcome.violations.map { "\(who): \($0)" }
        guard let final = outcome.final else {
            return problems + ["\(who): no FINAL after \(PluginChecker.stepLimit) steps"]
        }
        if let error = outcome.stepError { problems.append("\(who): step failed: \(error.description)") }
        if final.byHost && outcome.stepError == nil { problems.append("\(who): ended by the host, not the plugin") }
        if cancelled {
            if final.reason != UInt32(PX_FINISH_CANCELLED) {
                problems.append("\(who): cancelled, but it ended with \(FinishNames.name(final.reason))")
            }
            return problems
        }
        if final.reason == UInt32(PX_FINISH_CANCELLED) || final.reason == UInt32(PX_FINISH_ERROR) {
            problems.append("\(who): ended with \(FinishNames.name(final.reason))\(final.message.map { ": \($0)" } ?? "")")
        }
        switch Int(kind) {
        case PX_KIND_LLM, PX_KIND_VLM:
            if outcome.tokens.isEmpty { problems.append("\(who): no token before FINAL") }
            if outcome.tokens.count > Int(maxNewTokens) {
                problems.append("\(who): \(outcome.tokens.count) tokens for max_new_tokens \(maxNewTokens)")
            }
            if final.reason == UInt32(PX_FINISH_LENGTH) && outcome.tokens.count != Int(maxNewTokens) {
                problems.append("\(who): FINAL(LENGTH) after \(outcome.tokens.count) of \(maxNewTokens) tokens")
            }
        default:
            if outcome.tensors == 0 { problems.append("\(who): no tensor output before FINAL") }
        }
        return problems
    }

    /// "4 tokens, LENGTH" / "1 tensor, STOP".
    static func summary(_ outcome: DrivenRequest) -> String {
        let produced = outcome.tokens.isEmpty ? "\(outcome.tensors) tensors" : "\(outcome.tokens.count) tokens"
        return "\(produced), \(outcome.final.map { FinishNames.name($0.reason) } ?? "no FINAL")"
    }
}

/// Names of px kinds and finish reasons for check lines.
enum KindNames {
    static func name(_ kind: UInt32) -> String {
        switch Int(kind) {
        case PX_KIND_LLM: return "LLM"
        case PX_KIND_IMAGE: return "image"
        case PX_KIND_VIDEO: return "video"
        case PX_KIND_VLM: return "VLM"
        case PX_KIND_EMBEDDING: return "embedding"
        default: return "kind \(kind)"
        }
    }

    static func list(_ mask: UInt32) -> String {
        (0..<32).filter { mask & (1 << $0) != 0 }.map { name(UInt32($0)) }.joined(separator: ", ")
    }
}

enum FinishNames {
    static func name(_ reason: UInt32) -> String {
        switch Int(reason) {
        case PX_FINISH_STOP: return "STOP"
        case PX_FINISH_LENGTH: return "LENGTH"
        case PX_FINISH_CANCELLED: return "CANCELLED"
        case PX_FINISH_ERROR: return "ERROR"
        default: return "reason \(reason)"
        }
    }
}
