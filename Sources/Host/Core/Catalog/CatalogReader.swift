import Glibc

/// Walks a catalog's JSON, field by field, turning each into its typed value or a `CatalogError` at its path.
struct CatalogReader {
    let file: String
    let folder: String
    let environment: [String: String]
    /// Whether every weight file must be readable (`plexus models` reads catalogs whose files are missing).
    var checksWeights = true

    static let modelFields: Set<String> = ["id", "aliases", "plugin", "weights", "options", "device", "residency",
                                           "priority", "max_batch", "max_waiting", "kv_mib", "weight", "slice_ms"]

    func fail(_ path: String, _ problem: String) -> CatalogError { CatalogError(file: file, field: path, problem: problem) }

    func object(_ value: JSONValue, _ path: String, allowed: Set<String>) throws(CatalogError) -> [String: JSONValue] {
        guard case .object(let fields) = value else { throw fail(path, "expected an object, got \(value.kind)") }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail(path.isEmpty ? unknown : "\(path).\(unknown)", "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
        }
        return fields
    }

    func string(_ value: JSONValue?, _ path: String) throws(CatalogError) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value, !text.isEmpty else { throw fail(path, "expected a non-empty string, got \(value.kind)") }
        return text
    }

    func strings(_ value: JSONValue?, _ path: String) throws(CatalogError) -> [String]? {
        guard let value else { return nil }
        if case .string = value { return [try string(value, path)!] }
        guard case .array(let items) = value else { throw fail(path, "expected a string or an array of strings, got \(value.kind)") }
        var out: [String] = []
        for (index, item) in items.enumerated() { out.append(try string(item, "\(path)[\(index)]")!) }
        return out
    }

    func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) throws(CatalogError) -> Int? {
        guard let value else { return nil }
        guard case .number(let number) = value, number == number.rounded(), number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw fail(path, "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(value.kind == "a number" ? "\(value)" : value.kind)")
        }
        return Int(number)
    }

    func choice(_ value: JSONValue?, _ path: String, _ choices: [String]) throws(CatalogError) -> String? {
        guard let text = try string(value, path) else { return nil }
        guard choices.contains(text) else { throw fail(path, "expected one of \(choices.joined(separator: ", ")), got \"\(text)\"") }
        return text
    }

    mutating func catalog(_ root: JSONValue) throws(CatalogError) -> Catalog {
        let fields = try object(root, "", allowed: ["models", "api_keys", "server"])
        var catalog = Catalog()
        guard case .array(let models)? = fields["models"] else { throw fail("models", "expected an array of models") }
        var names: Set<String> = []
        for (index, value) in models.enumerated() {
            let model = try model(value, "models[\(index)]")
            for name in [model.id] + model.aliases where !names.insert(name).inserted {
                throw fail("models[\(index)]", "the name '\(name)' is already used by another model or alias")
            }
            catalog.models.append(model)
        }
        if let keys = fields["api_keys"] { catalog.keys = try self.keys(keys, names: names) }
        if let server = fields["server"] {
            let settings = try object(server, "server", allowed: ["host", "port", "cors_origins", "weights_mib"])
            catalog.host = try string(settings["host"], "server.host")
            catalog.port = try integer(settings["port"], "server.port", in: 0...65535)
            catalog.corsOrigins = try strings(settings["cors_origins"], "server.cors_origins") ?? []
            catalog.weightsMiB = try integer(settings["weights_mib"], "server.weights_mib", in: 1...(1 << 30)).map(UInt64.init)
        }
        return catalog
    }

    func model(_ value: JSONValue, _ path: String) throws(CatalogError) -> Catalog.Model {
        let fields = try object(value, path, allowed: Self.modelFields)
        guard let id = try string(fields["id"], "\(path).id") else { throw fail("\(path).id", "missing (every model needs an id)") }
        guard id.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { throw fail("\(path).id", "use printable ASCII without spaces") }
        guard let weights = try strings(fields["weights"], "\(path).weights"), !weights.isEmpty else {
            throw fail("\(path).weights", "missing (the weight file or files of the model)")
        }
        var model = Catalog.Model(id: id, weights: weights.map { $0.hasPrefix("/") ? $0 : "\(folder)/\($0)" })
        model.aliases = try strings(fields["aliases"], "\(path).aliases") ?? []
        model.plugin = try string(fields["plugin"], "\(path).plugin")
        model.options = try options(fields["options"], "\(path).options")
        if let device = try string(fields["device"], "\(path).device") {
            let valid = ["auto", "cpu", "cuda"].contains(device) || (device.hasPrefix("cuda:") && Int(device.dropFirst(5)) != nil)
            guard valid else { throw fail("\(path).device", "expected auto, cpu, cuda or cuda:N, got \"\(device)\"") }
            model.device = device
        }
        if let residency = try choice(fields["residency"], "\(path).residency", ["always_resident", "evictable"]) {
            model.residency = Catalog.Residency(rawValue: residency)!
        }
        if let priority = try choice(fields["priority"], "\(path).priority", ["interactive", "batch"]) {
            model.priority = GenerationRequest.Priority(rawValue: priority)!
        }
        model.maxBatch = try integer(fields["max_batch"], "\(path).max_batch", in: 1...4096)
        model.maxWaiting = try integer(fields["max_waiting"], "\(path).max_waiting", in: 0...1_000_000) ?? model.maxWaiting
        model.kvMiB = UInt64(try integer(fields["kv_mib"], "\(path).kv_mib", in: 1...1_048_576) ?? Int(model.kvMiB))
        model.sliceMs = try integer(fields["slice_ms"], "\(path).slice_ms", in: 1...1000)
        if let weight = fields["weight"] {
            guard case .number(let share) = weight, share > 0, share <= 1000 else { throw fail("\(path).weight", "expected a number in (0, 1000]") }
            model.weight = share
        }
        for weight in model.weights where checksWeights && access(weight, R_OK) != 0 {
            throw fail("\(path).weights", "cannot read '\(weight)'")
        }
        return model
    }

    func options(_ value: JSONValue?, _ path: String) throws(CatalogError) -> [(String, String)] {
        guard let value else { return [] }
        guard case .object(let fields) = value else { throw fail(path, "expected an object of option names to values") }
        var out: [(String, String)] = []
        for key in fields.keys.sorted() {
            switch fields[key]! {
            case .string(let text): out.append((key, text))
            case .number(let number) where number == number.rounded() && abs(number) < 1e15: out.append((key, String(Int64(number))))
            case .number(let number): out.append((key, "\(number)"))
            case .bool(let flag): out.append((key, flag ? "true" : "false"))
            default: throw fail("\(path).\(key)", "expected a string, number or boolean, got \(fields[key]!.kind)")
            }
        }
        return out
    }

    func keys(_ value: JSONValue, names: Set<String>) throws(CatalogError) -> [Catalog.Key] {
        guard case .array(let items) = value else { throw fail("api_keys", "expected an array") }
        var keys: [Catalog.Key] = []
        for (index, item) in items.enumerated() {
            let path = "api_keys[\(index)]"
            let fields = try object(item, path, allowed: ["key", "key_env", "models", "admin", "weight"])
            let key: String
            if let literal = try string(fields["key"], "\(path).key") {
                key = literal
            } else if let variable = try string(fields["key_env"], "\(path).key_env") {
                guard let value = environment[variable], !value.isEmpty else { throw fail("\(path).key_env", "the environment variable \(variable) is not set") }
                key = value
            } else {
                throw fail(path, "needs key or key_env")
            }
            var allowed: Set<String>?
            if let models = fields["models"], models != .string("*") {
                let list = try strings(models, "\(path).models") ?? []
                if let unknown = list.first(where: { !names.contains($0) }) { throw fail("\(path).models", "no model is named '\(unknown)'") }
                allowed = Set(list)
            }
            var entry = Catalog.Key(key: key, models: allowed)
            if let admin = fields["admin"] {
                guard case .bool(let flag) = admin else { throw fail("\(path).admin", "expected true or false, got \(admin.kind)") }
                entry.admin = flag
            }
            if let weight = fields["weight"] {
                guard case .number(let share) = weight, share > 0, share <= 1000 else { throw fail("\(path).weight", "expected a number in (0, 1000]") }
                entry.weight = share
            }
            keys.append(entry)
        }
        return keys
    }
}
