import HostCore

/// The messages that say what a model serves and what is missing, so a refused request names the gap.
enum MissingCapability {
    /// "model X serves chat and completion; it does not serve W (hint)".
    static func message(model: ServedModel, wanted: String, hint: String?) -> String {
        "model \(model.id) serves \(served(model)); it does not serve \(wanted)" + (hint.map { " (\($0))" } ?? "")
    }

    /// The capabilities of a model in words ("chat and completion", "nothing").
    static func served(_ model: ServedModel) -> String {
        let names = model.capabilities.map(\.rawValue).sorted()
        switch names.count {
        case 0: return "nothing"
        case 1: return names[0]
        default: return names.dropLast().joined(separator: ", ") + " and " + names.last!
        }
    }
}
