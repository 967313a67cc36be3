import Testing
@testable import HostCore

/// Catalog validation: a good catalog becomes model specs; each kind of mistake names the file, the field and
/// what is wrong.
struct CatalogTests {
    static let weights = Fixtures.file("catalog-weights.bin", contents: "x")

    func parse(_ text: String, environment: [String: String] = [:]) throws(CatalogError) -> Catalog {
        try CatalogLoader.parse(Array(text.utf8), file: "cat.json", folder: "/", environment: environment)
    }

    func problem(_ text: String, environment: [String: String] = [:]) -> String? {
        do { _ = try parse(text, environment: environment); return nil } catch { return error.description }
    }

    @Test func aGoodCatalogBecomesSpecs() throws {
        let catalog = try parse("""
            {"models": [{"id": "chat", "aliases": ["gpt-4o"], "weights": "\(Self.weights)", "options": {"context_length": 4096, "x": true},
                         "priority": "batch", "max_batch": 8, "kv_mib": 64, "weight": 2, "residency": "always_resident", "slice_ms": 10}],
             "api_keys": [{"key": "sk-1", "models": ["chat"], "weight": 4}, {"key_env": "K", "models": "*"}],
             "server": {"port": 9000, "cors_origins": ["https://a.example"], "weights_mib": 512}}
            """, environment: ["K": "sk-2"])
        let spec = catalog.spec(catalog.models[0])
        #expect(spec.id == "chat" && spec.aliases == ["gpt-4o"] && spec.paths == [Self.weights])
        #expect(spec.options.map { "\($0.0)=\($0.1)" } == ["context_length=4096", "x=true", "max_batch_items=8"])
        #expect(spec.kvBytes == 64 << 20 && spec.weight == 2 && spec.sliceSeconds == 0.010)
        #expect(catalog.models[0].priority == .batch && catalog.models[0].residency == .resident)
        #expect(catalog.keys.map(\.key) == ["sk-1", "sk-2"] && catalog.keys[0].models == ["chat"] && catalog.keys[1].models == nil)
        #expect(catalog.keys.map(\.weight) == [4, 1])
        #expect(catalog.port == 9000 && catalog.corsOrigins == ["https://a.example"] && catalog.weightsMiB == 512)
        #expect(spec.alwaysResident)
    }

    @Test(arguments: [
        ("{", "cat.json: not valid JSON"),
        ("{\"models\": []} ", nil),
        ("{\"modles\": []}", "cat.json: modles: unknown field"),
        ("{\"models\": [{\"weights\": \"/x\"}]}", "cat.json: models[0].id: missing"),
        ("{\"models\": [{\"id\": \"a\"}]}", "cat.json: models[0].weights: missing"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"/nonexistent/w.gguf\"}]}", "cat.json: models[0].weights: cannot read '/nonexistent/w.gguf'"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\", \"max_batch\": 0}]}", "cat.json: models[0].max_batch: expected an integer in 1...4096"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\", \"priority\": \"urgent\"}]}", "cat.json: models[0].priority: expected one of interactive, batch"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\", \"contxt\": 1}]}", "cat.json: models[0].contxt: unknown field"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\"}, {\"id\": \"b\", \"aliases\": [\"a\"], \"weights\": \"W\"}]}", "cat.json: models[1]: the name 'a' is already used"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\", \"options\": {\"k\": [1]}}]}", "cat.json: models[0].options.k: expected a string, number or boolean"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\"}], \"api_keys\": [{\"key\": \"k\", \"models\": [\"b\"]}]}", "cat.json: api_keys[0].models: no model is named 'b'"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\"}], \"api_keys\": [{\"key_env\": \"NOPE\"}]}", "cat.json: api_keys[0].key_env: the environment variable NOPE is not set"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\"}], \"api_keys\": [{\"key\": \"k\", \"weight\": 0}]}", "cat.json: api_keys[0].weight: expected a number in (0, 1000]"),
        ("{\"models\": [{\"id\": \"a\", \"weights\": \"W\", \"device\": \"tpu\"}]}", "cat.json: models[0].device: expected auto, cpu, cuda or cuda:N"),
        ("{\"models\": [], \"server\": {\"weights_mib\": 0}}", "cat.json: server.weights_mib: expected an integer in 1...1073741824"),
    ] as [(String, String?)])
    func mistakesNameTheFileTheFieldAndTheProblem(text: String, expected: String?) {
        let text = text.replacing("\"W\"", with: "\"\(Self.weights)\"")
        let found = problem(text)
        if let expected {
            #expect(found?.hasPrefix(expected) == true, "got: \(found ?? "no error")")
        } else {
            #expect(found == nil)
        }
    }
}

