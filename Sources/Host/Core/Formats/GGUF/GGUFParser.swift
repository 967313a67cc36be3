/// Reads the header, metadata and tensor infos of a GGUF file from its mapped bytes, checking every length,
/// count and offset against the bytes that are left before using it. Layout (ggml docs/gguf.md, v2 and v3):
///
///     magic "GGUF" | version u32 | tensor_count u64 | kv_count u64
///     kv_count x (key: string, type: u32, value)       string = length u64 + bytes; array = type u32 + count u64 + values
///     tensor_count x (name: string, n_dims u32, dims u64 x n_dims, type u32, offset u64)
///     padding to `general.alignment` (default 32) | tensor data
struct GGUFParser {
    /// What a parse yields; arrays point into the mapping.
    struct Contents {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: UInt64
        var dataOffset: UInt64
    }

    static let defaultAlignment: UInt64 = 32
    /// ggml's GGML_MAX_NAME (64, including the terminating zero).
    static let maximumTensorName = 63
    /// ggml's GGML_MAX_DIMS.
    static let maximumDimensions: UInt32 = 4

    let bytes: UnsafeRawBufferPointer
    private let mapping: FileMapping
    private let path: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, mapping: FileMapping, path: String) {
        self.bytes = bytes
        self.mapping = mapping
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    mutating func parse() throws(GGUFError) -> Contents {
        let version = try readHeaderVersion()
        let tensorCount = try readCount("tensor count", minimumEntrySize: 24)
        let keyCount = try readCount("metadata key/value count", minimumEntrySize: 13)
        var metadata = GGUFMetadata()
        for index in 0..<keyCount {
            let start = offset
            let key = try readString("key of metadata pair \(index)")
            guard !key.isEmpty else { throw failure("metadata key \(index) is empty", at: start) }
            guard !metadata.contains(key) else { throw failure("duplicate metadata key '\(key)'", at: start) }
            metadata[key] = try readValue(of: key)
        }
        let alignment = try Self.alignment(in: metadata, path: path)
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var names = Set<String>()
        for index in 0..<tensorCount {
            let tensor = try readTensorInfo(index: index, alignment: alignment)
            guard names.insert(tensor.name).inserted else {
                throw failure("duplicate tensor name '\(tensor.name)'", at: offset)
            }
            tensors.append(tensor)
        }
        let dataOffset = try dataSection(alignment: alignment, tensors: tensors)
        return Contents(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    // MARK: - Header

    private mutating func readHeaderVersion() throws(GGUFError) -> UInt32 {
        guard remaining >= 4 else { throw failure("file too short for the GGUF magic (\(remaining) bytes)", at: 0) }
        let magic = [UInt8](bytes[0..<4])
        guard magic == Array("GGUF".utf8) else {
            let shown = magic.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
            throw failure("not a GGUF file: magic is '\(shown.joined())', expected 'GGUF'", at: 0)
        }
        offset = 4
        let version: UInt32 = try read("version")
        switch version {
        case 2, 3: return version
        case 1: throw failure("GGUF version 1 is not supported (only 2 and 3)", at: 4)
        case _ where version & 0xFFFF == 0:
            throw failure("GGUF version \(version) looks byte-swapped: big-endian files are not supported", at: 4)
        default: throw failure("unsupported GGUF version \(version) (only 2 and 3)", at: 4)
        }
    }

    /// Reads a u64 count and refuses one that the rest of the file could not hold even at the minimum size per
    /// entry: a hostile count must not make the reader reserve memory or loop for long.
    private mutating func readCount(_ what: String, minimumEntrySize: Int) throws(GGUFError) -> Int {
        let start = offset
        let count: UInt64 = try read(what)
        guard count <= UInt64(remaining / minimumEntrySize) else {
            throw failure("\(what) \(count) cannot fit in the \(remaining) bytes left", at: start)
        }
        return Int(count)
    }

    // MARK: - Values

    private mutating func readValue(of key: String) throws(GGUFError) -> GGUFValue {
        let type = try readType("type of key '\(key)'")
        switch type {
        case .string: return .string(try readString("value of key '\(key)'"))
        case .array: return .array(try readArray(of: key))
        default:
            let start = offset
            try require(type.minimumSize, "value of key '\(key)'")
            offset += type.minimumSize
            let value = GGUFScalar.read(type, from: bytes, at: start)
            if type == .bool, bytes[start] > 1 {
                throw failure("bool value \(bytes[start]) of key '\(key)' is neither 0 nor 1", at: start)
            }
            return value
        }
    }

    private mutating func readType(_ what: String) throws(GGUFError) -> GGUFValueType {
        let start = offset
        let raw: UInt32 = try read(what)
        guard let type = GGUFValueType(rawValue: raw) else {
            throw failure("invalid \(what): \(raw) (valid types are 0 to 12)", at: start)
        }
        return type
    }

    private mutating func readArray(of key: String) throws(GGUFError) -> GGUFArray {
        let typeOffset = offset
        let elementType = try readType("element type of array '\(key)'")
        guard elementType != .array else {
            throw failure("array '\(key)' holds arrays: nested arrays are not supported", at: typeOffset)
        }
        let count = try readCount("element count of array '\(key)'", minimumEntrySize: elementType.minimumSize)
        let start = offset
        guard elementType == .string else {
            let size = count * elementType.minimumSize
            if elementType == .bool, let bad = bytes[start ..< start + size].firstIndex(where: { $0 > 1 }) {
                throw failure("bool element \(bad - start) of array '\(key)' is \(bytes[bad]), neither 0 nor 1", at: bad)
            }
            offset += size
            return GGUFArray(elementType: elementType, count: count, mapping: mapping, start: start)
        }
        var starts = [Int](repeating: 0, count: count)
        var lengths = [Int](repeating: 0, count: count)
        for index in 0..<count {
            let length = try readStringLength { "string length of array '\(key)' element \(index)" }
            starts[index] = offset
            lengths[index] = length
            offset += length
        }
        return GGUFArray(elementType: .string, count: count, mapping: mapping, start: start,
                         stringStarts: starts, stringLengths: lengths)
    }

    mutating func readString(_ what: String) throws(GGUFError) -> String {
        let length = try readStringLength { "string length of \(what)" }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + length]), as: UTF8.self)
        offset += length
        return text
    }

    /// Reads a u64 string length and checks that that many bytes follow.
    private mutating func readStringLength(_ what: () -> String) throws(GGUFError) -> Int {
        let start = offset
        let length: UInt64 = try read(what())
        guard length <= UInt64(remaining) else {
            throw failure("\(what()) is \(length), more than the \(remaining) bytes left", at: start)
        }
        return Int(length)
    }

    mutating func read<T: FixedWidthInteger>(_ what: @autoclosure () -> String) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, what())
        defer { offset += MemoryLayout<T>.size }
        return GGUFScalar.load(T.self, bytes, offset)
    }

    private func require(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        guard remaining >= count else {
            throw failure("truncated: \(what()) needs \(count) bytes, \(remaining) left", at: offset)
        }
    }

    func failure(_ message: String, at offset: Int) -> GGUFError {
        GGUFError(path: path, message: message, offset: UInt64(offset))
    }
}
