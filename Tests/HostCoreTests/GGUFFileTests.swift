import Testing
@testable import HostCore

/// The GGUF reader: every value type, tensor infos, and refusal of truncated, malformed and hostile files.
@Suite struct GGUFFileTests {
    /// A small valid file with one key of each type, arrays (strings, bools, numbers, empty) and two tensors.
    static var sample: GGUFBuilder {
        var builder = GGUFBuilder()
        builder.metadata = [
            ("general.architecture", .string("test")),
            ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65_000)), ("i16", .int16(-30_000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(1.5)),
            ("flag", .bool(true)), ("u64", .uint64(UInt64.max)), ("i64", .int64(Int64.min)), ("f64", .float64(-0.25)),
            ("words", .array(8, [.string("a"), .string(""), .string("▁é😀")])),
            ("flags", .array(7, [.bool(false), .bool(true)])),
            ("scores", .array(6, [.float32(-1), .float32(2.5)])),
            ("empty", .array(5, [])),
        ]
        builder.tensors = [
            .init(name: "a.weight", dimensions: [4, 2], type: 0, data: [UInt8](repeating: 1, count: 32)),
            .init(name: "b.weight", dimensions: [32], type: 8, data: [UInt8](repeating: 2, count: 34)),
        ]
        return builder
    }

    @Test func readsEveryValueType() throws {
        let file = try GGUFFile(bytes: Self.sample.bytes())
        #expect(file.version == 3)
        #expect(file.architecture == "test")
        #expect(file.metadata.count == 16)
        #expect(file.metadata.keys.first == "general.architecture")
        #expect(file.metadata["u8"]?.integer == 200)
        #expect(file.metadata["i8"]?.integer == -5)
        #expect(file.metadata["u16"]?.integer == 65_000)
        #expect(file.metadata["i16"]?.integer == -30_000)
        #expect(file.metadata["u32"]?.integer == 4_000_000_000)
        #expect(file.metadata["i32"]?.integer == -2_000_000_000)
        #expect(file.metadata["f32"]?.number == 1.5)
        #expect(file.metadata["flag"]?.bool == true)
        #expect(file.metadata["i64"]?.integer == Int64.min)
        #expect(file.metadata["f64"]?.number == -0.25)
        guard case .uint64(UInt64.max)? = file.metadata["u64"] else { Issue.record("u64"); return }
        #expect(file.metadata["u64"]?.integer == nil)
        let words = try #require(file.metadata["words"]?.array)
        #expect(words.elementType == .string && words.count == 3)
        #expect((0..<3).map(words.string(at:)) == ["a", "", "▁é😀"])
        #expect(file.metadata["flags"]?.array?.values.map(\.bool) == [false, true])
        #expect(file.metadata["scores"]?.array?.floats() == [-1, 2.5])
        #expect(file.metadata["empty"]?.array?.count == 0)
        #expect(file.metadata["empty"]?.array?.integers() == [])
    }

    @Test func readsTensorInfos() throws {
        let bytes = Self.sample.bytes()
        let file = try GGUFFile(bytes: bytes)
        #expect(file.tensors.map(\.name) == ["a.weight", "b.weight"])
        let a = try #require(file.tensor(named: "a.weight"))
        #expect(a.dimensions == [4, 2] && a.typeID == 0 && a.offset == 0 && a.byteCount == 32 && a.elementCount == 8)
        let b = try #require(file.tensor(named: "b.weight"))
        #expect(b.type?.name == "Q8_0" && b.offset == 32 && b.byteCount == 34)
        #expect(file.alignment == 32)
        #expect(file.dataOffset % 32 == 0 && file.dataOffset + 32 + 34 <= UInt64(bytes.count))
    }

    @Test func acceptsVersion2AndCustomAlignment() throws {
        var builder = Self.sample
        builder.version = 2
        builder.alignment = 64
        builder.metadata.append(("general.alignment", .uint32(64)))
        let file = try GGUFFile(bytes: builder.bytes())
        #expect(file.version == 2 && file.alignment == 64 && file.dataOffset % 64 == 0)
        #expect(file.tensor(named: "b.weight")?.offset == 64)
    }

    @Test func refusesEveryTruncation() throws {
        let bytes = Self.sample.bytes()
        // The zeros after the last tensor's data are padding, which a file may omit.
        let end = try #require(bytes.lastIndex { $0 != 0 }) + 1
        #expect(try GGUFFile(bytes: Array(bytes[..<end])).tensors.count == 2)
        for length in 0..<end {
            #expect(throws: GGUFError.self, "prefix of \(length) bytes") { try GGUFFile(bytes: Array(bytes[..<length])) }
        }
    }

    @Test func refusesEveryTruncationOfMetadata() throws {
        // Without tensors a file may end right after its metadata; every shorter prefix must still be refused.
        var builder = Self.sample
        builder.tensors = []
        let bytes = builder.headerAndInfos()
        #expect(try GGUFFile(bytes: bytes).tensors.isEmpty)
        for length in 0..<bytes.count {
            #expect(throws: GGUFError.self, "prefix of \(length) bytes") { try GGUFFile(bytes: Array(bytes[..<length])) }
        }
    }

    /// Every single-byte corruption of the header region either parses or throws; none may crash or read out of
    /// bounds (a crash would end the test process).
    @Test func survivesEveryByteCorruption() throws {
        let bytes = Self.sample.bytes()
        let headerEnd = Self.sample.headerAndInfos().count
        var accepted = 0
        for position in 0..<headerEnd {
            for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF] where bytes[position] != value {
                var corrupted = bytes
                corrupted[position] = value
                if (try? GGUFFile(bytes: corrupted)) != nil { accepted += 1 }
            }
        }
        #expect(accepted < headerEnd * 5)
    }

    @Test func refusesBadMagic() throws {
        var bytes = Self.sample.bytes()
        bytes.replaceSubrange(0..<4, with: Array("GGUX".utf8))
        try expectFailure(bytes, "not a GGUF file: magic is 'GGUX'")
    }

    @Test func refusesUnsupportedVersions() throws {
        for (version, message) in [(UInt32(1), "version 1 is not supported"), (4, "unsupported GGUF version 4"),
                                   (0x0300_0000, "big-endian")] {
            var builder = Self.sample
            builder.version = version
            try expectFailure(builder.bytes(), message)
        }
    }

    @Test func refusesHostileCountsAndLengths() throws {
        let header = Array("GGUF".utf8) + GGUFBuilder.little(UInt32(3))
        try expectFailure(header + GGUFBuilder.little(UInt64.max) + GGUFBuilder.little(UInt64(0)), "tensor count")
        try expectFailure(header + GGUFBuilder.little(UInt64(0)) + GGUFBuilder.little(UInt64(1) << 60), "key/value count")
        let oneKey = header + GGUFBuilder.little(UInt64(0)) + GGUFBuilder.little(UInt64(1))
        try expectFailure(oneKey + GGUFBuilder.little(UInt64.max) + [UInt8](repeating: 0, count: 8), "string length of key")
        let key = oneKey + GGUFBuilder.string("k")
        try expectFailure(key + GGUFBuilder.little(UInt32(8)) + GGUFBuilder.little(UInt64(1) << 40), "string length of value")
        try expectFailure(key + GGUFBuilder.little(UInt32(13)) + [0, 0, 0, 0, 0, 0, 0, 0], "invalid type of key 'k': 13")
        let array = key + GGUFBuilder.little(UInt32(9))
        try expectFailure(array + GGUFBuilder.little(UInt32(8)) + GGUFBuilder.little(UInt64(1) << 62),
                          "element count of array 'k'")
        try expectFailure(array + GGUFBuilder.little(UInt32(4)) + GGUFBuilder.little(UInt64.max), "element count")
        try expectFailure(array + GGUFBuilder.little(UInt32(9)) + GGUFBuilder.little(UInt64(0)), "nested arrays")
        try expectFailure(array + GGUFBuilder.little(UInt32(99)) + GGUFBuilder.little(UInt64(0)), "invalid element type")
        try expectFailure(array + GGUFBuilder.little(UInt32(8)) + GGUFBuilder.little(UInt64(2))
                          + GGUFBuilder.string("x") + GGUFBuilder.little(UInt64(1) << 50), "array 'k' element 1")
        try expectFailure(key + GGUFBuilder.little(UInt32(7)) + [2], "bool value 2")
        try expectFailure(array + GGUFBuilder.little(UInt32(7)) + GGUFBuilder.little(UInt64(2)) + [1, 3], "bool element 1")
    }

    @Test func refusesMalformedMetadata() throws {
        var builder = Self.sample
        builder.metadata.append(("u8", .uint8(1)))
        try expectFailure(builder.bytes(), "duplicate metadata key 'u8'")
        builder = Self.sample
        builder.metadata.append(("", .uint8(1)))
        try expectFailure(builder.bytes(), "is empty")
        builder = Self.sample
        builder.metadata.append(("general.alignment", .uint32(48)))
        try expectFailure(builder.bytes(), "not a power of two")
        builder = Self.sample
        builder.metadata.append(("general.alignment", .uint64(32)))
        try expectFailure(builder.bytes(), "must be a uint32")
    }

    @Test func refusesMalformedTensors() throws {
        func variant(_ change: (inout GGUFBuilder.Tensor) -> Void) -> [UInt8] {
            var builder = Self.sample
            change(&builder.tensors[1])
            return builder.bytes()
        }
        try expectFailure(variant { $0.name = "a.weight" }, "duplicate tensor name 'a.weight'")
        try expectFailure(variant { $0.name = String(repeating: "n", count: 64) }, "more than 63")
        try expectFailure(variant { $0.dimensions = [32, 1, 1, 1, 1] }, "5 dimensions")
        try expectFailure(variant { $0.dimensions = [32, 1 << 62, 4] }, "more than 2^63 - 1 elements")
        try expectFailure(variant { $0.dimensions = [UInt64.max] }, "above 2^63 - 1")
        try expectFailure(variant { $0.dimensions = [33] }, "not a multiple of the block size 32")
        try expectFailure(variant { $0.dimensions = [32, 2] }, "runs past the end of the file")
        var bytes = Self.sample.bytes()
        // Patch tensor b's offset (the last 8 bytes of the tensor infos) to a misaligned value.
        let infosEnd = Self.sample.headerAndInfos().count
        bytes.replaceSubrange(infosEnd - 8 ..< infosEnd, with: GGUFBuilder.little(UInt64(33)))
        try expectFailure(bytes, "not a multiple of the alignment 32")
    }

    @Test func refusesMissingFilesAndNonFiles() throws {
        #expect(throws: GGUFError.self) { try GGUFFile(path: Fixtures.directory + "/no-such-file.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/tmp") }
        let empty = Fixtures.file("empty.gguf", contents: "")
        try expectFailure(path: empty, "too short")
    }

    @Test func opensTheRealModels() throws {
        let smol = try ModelFiles.open(ModelFiles.smolLM2)
        #expect(smol.version == 3 && smol.metadata.count == 33 && smol.tensors.count == 272)
        #expect(smol.dataOffset == 1_785_664 && smol.alignment == 32)
        #expect(smol.metadata["tokenizer.ggml.tokens"]?.array?.count == 49_152)
        #expect(smol.metadata["tokenizer.ggml.merges"]?.array?.count == 48_900)
        #expect(smol.metadata["tokenizer.ggml.pre"]?.string == "smollm")
        let embedding = try #require(smol.tensor(named: "token_embd.weight"))
        #expect(embedding.dimensions == [576, 49_152] && embedding.type?.name == "Q8_0" && embedding.offset == 0)
        #expect(embedding.byteCount == 30_081_024)
        #expect(smol.tensor(named: "output_norm.weight")?.offset == 96_574_464)

        let gemma = try ModelFiles.open(ModelFiles.gemma3)
        #expect(gemma.version == 3 && gemma.metadata.count == 33 && gemma.tensors.count == 236)
        #expect(gemma.dataOffset == 6_525_120 && gemma.architecture == "gemma3")
        let tokens = try #require(gemma.metadata["tokenizer.ggml.tokens"]?.array)
        #expect(tokens.count == 262_144 && tokens.string(at: 106) == "<end_of_turn>")
        #expect(gemma.metadata["tokenizer.ggml.scores"]?.array?.floats()?.count == 262_144)
        let gemmaEmbedding = try #require(gemma.tensor(named: "token_embd.weight"))
        #expect(gemmaEmbedding.dimensions == [640, 262_144] && gemmaEmbedding.offset == 2560)
        #expect(gemmaEmbedding.byteCount == 178_257_920)
        #expect(gemma.tensor(named: "blk.17.post_ffw_norm.weight")?.offset == 246_585_344)
        #expect(gemma.tensors.allSatisfy { $0.byteCount != nil })
    }

    // MARK: - Helpers

    private func expectFailure(_ bytes: [UInt8], _ message: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            _ = try GGUFFile(bytes: bytes)
            Issue.record("accepted a file that should fail with '\(message)'", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
        }
    }

    private func expectFailure(path: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            _ = try GGUFFile(path: path)
            Issue.record("accepted \(path)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
        }
    }
}
