import Glibc
import Testing
@testable import HostCore

/// The safetensors header reader: a real layout is summarized; headers that lie are errors, never reads outside
/// the file.
struct SafetensorsHeaderTests {
    static func write(_ name: String, header: String, dataBytes: Int, headerLength: UInt64? = nil) -> String {
        let json = Array(header.utf8)
        let length = headerLength ?? UInt64(json.count)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + json
        bytes += [UInt8](repeating: 0, count: dataBytes)
        let path = Fixtures.directory + "/" + name
        mkdir(Fixtures.directory, 0o755)
        let file = fopen(path, "wb")!
        fwrite(bytes, 1, bytes.count, file)
        fclose(file)
        return path
    }

    @Test func aValidFileIsSummarized() throws {
        let path = Self.write("ok.safetensors", header: """
            {"__metadata__": {"architecture": "llama", "format": "pt"},
             "a.weight": {"dtype": "F16", "shape": [4, 8], "data_offsets": [0, 64]},
             "b.bias": {"dtype": "F32", "shape": [8], "data_offsets": [64, 96]}}
            """, dataBytes: 96)
        let summary = try ModelFileSummary.inspect(path: path)
        #expect(summary.format == "safetensors" && summary.architecture == "llama")
        #expect(summary.parameters == 40)
        #expect(summary.types == [.init(type: "F16", tensors: 1, parameters: 32, bytes: 64), .init(type: "F32", tensors: 1, parameters: 8, bytes: 32)])
    }

    @Test(arguments: [
        ("{\"t\": {\"dtype\": \"F16\", \"shape\": [4], \"data_offsets\": [0, 64]}}", 8, nil, "outside"),
        ("{\"t\": {\"dtype\": \"F16\", \"shape\": [4], \"data_offsets\": [0, 6]}}", 8, nil, "need 8"),
        ("{\"t\": {\"dtype\": \"Q9\", \"shape\": [4], \"data_offsets\": [0, 8]}}", 8, nil, "unknown dtype"),
        ("{\"t\": {\"dtype\": \"F16\", \"shape\": [4294967296, 4294967296, 4294967296], \"data_offsets\": [0, 8]}}", 8, nil, "overflows"),
        ("{\"t\": 1}", 0, nil, "needs dtype"),
        ("[1]", 0, nil, "not a JSON object"),
        ("{", 0, nil, "not valid JSON"),
        ("{}", 0, UInt64(1) << 40, "exceeds the file"),
    ] as [(String, Int, UInt64?, String)])
    func hostileHeadersAreClearErrors(header: String, data: Int, length: UInt64?, expected: String) {
        let name = "bad-\(header.utf8.reduce(UInt32(7)) { $0 &* 31 &+ UInt32($1) })-\(length ?? 0).safetensors"
        let path = Self.write(name, header: header, dataBytes: data, headerLength: length)
        do {
            _ = try SafetensorsHeader.read(path: path)
            Issue.record("accepted a bad header: \(header)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func inspectPrintsTheGemmaSummary() throws {
        let model = try ModelFiles.path(ModelFiles.gemma3)
        let (ending, lines) = Fixtures.run([Fixtures.executable, "inspect", model])
        #expect(ending == .exited(0))
        #expect(lines.contains("architecture   gemma3"))
        #expect(lines.contains("parameters     268098176 (268.1 M)"))
        #expect(lines.contains { $0.contains("Q4_K: 27,") })
        let bad = Fixtures.run([Fixtures.executable, "inspect", "/etc/hostname"])
        #expect(bad.ending == .exited(1))
    }
}
