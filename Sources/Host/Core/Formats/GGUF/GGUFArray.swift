/// An array value of a GGUF file, read lazily from the mapping: opening a file with a 262,144-string vocabulary
/// indexes the strings once and copies nothing.
public struct GGUFArray: Sendable {
    /// The type of every element (never `.array`: ggml rejects nested arrays, and so does this reader).
    public let elementType: GGUFValueType
    /// The number of elements.
    public let count: Int

    private let mapping: FileMapping
    /// File offset of the first element.
    private let start: Int
    /// For string arrays: file offset and length of each element's bytes (after its 8-byte length prefix).
    private let stringStarts: [Int]
    private let stringLengths: [Int]

    init(elementType: GGUFValueType, count: Int, mapping: FileMapping, start: Int,
         stringStarts: [Int] = [], stringLengths: [Int] = []) {
        self.elementType = elementType
        self.count = count
        self.mapping = mapping
        self.start = start
        self.stringStarts = stringStarts
        self.stringLengths = stringLengths
    }

    /// Element `index` as a value.
    public subscript(index: Int) -> GGUFValue {
        precondition(index >= 0 && index < count, "GGUF array index \(index) out of range 0..<\(count)")
        if elementType == .string { return .string(string(at: index)) }
        return mapping.withBytes { bytes in GGUFScalar.read(elementType, from: bytes, at: elementOffset(index)) }
    }

    /// All elements as values (materializes the array).
    public var values: [GGUFValue] { (0..<count).map { self[$0] } }

    /// String element `index`, decoded as UTF-8 (ill-formed sequences are repaired with U+FFFD).
    public func string(at index: Int) -> String {
        withStringBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the raw bytes of string element `index`; the buffer must not escape.
    public func withStringBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(elementType == .string, "GGUF array of \(elementType) has no strings")
        precondition(index >= 0 && index < count, "GGUF array index \(index) out of range 0..<\(count)")
        return try mapping.withBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[stringStarts[index] ..< stringStarts[index] + stringLengths[index]]))
        }
    }

    /// Calls `body` with each string element's index and raw bytes, in order, in one pass over the mapping.
    public func forEachString(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        precondition(elementType == .string, "GGUF array of \(elementType) has no strings")
        try mapping.withBytes { bytes in
            for index in 0..<count {
                let first = stringStarts[index]
                try body(index, UnsafeRawBufferPointer(rebasing: bytes[first ..< first + stringLengths[index]]))
            }
        }
    }

    /// The elements of an integer array as Int64 (a uint64 above Int64.max is clamped); nil for other types.
    public func integers() -> [Int64]? {
        switch elementType {
        case .uint8: return integers(UInt8.self)
        case .int8: return integers(Int8.self)
        case .uint16: return integers(UInt16.self)
        case .int16: return integers(Int16.self)
        case .uint32: return integers(UInt32.self)
        case .int32: return integers(Int32.self)
        case .uint64: return integers(UInt64.self)
        case .int64: return integers(Int64.self)
        default: return nil
        }
    }

    private func integers<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
        mapping.withBytes { bytes in
            (0..<count).map { Int64(clamping: GGUFScalar.load(T.self, bytes, start + $0 * MemoryLayout<T>.size)) }
        }
    }

    /// The elements of a float32 array, or of an int32 array converted to Float (as llama.cpp reads scores).
    public func floats() -> [Float]? {
        guard elementType == .float32 || elementType == .int32 else { return nil }
        return mapping.withBytes { bytes in
            (0..<count).map { index in
                let offset = start + index * 4
                if elementType == .float32 { return Float(bitPattern: GGUFScalar.load(UInt32.self, bytes, offset)) }
                return Float(Int32(bitPattern: GGUFScalar.load(UInt32.self, bytes, offset)))
            }
        }
    }

    private func elementOffset(_ index: Int) -> Int { start + index * elementType.minimumSize }
}

/// Little-endian loads of fixed-size GGUF values from bounds-checked offsets.
enum GGUFScalar {
    /// Loads a little-endian integer; the caller has checked that the bytes are inside `bytes`.
    static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Reads one value of a fixed-size type (bools: any non-zero byte is true; the parser has rejected others).
    static func read(_ type: GGUFValueType, from bytes: UnsafeRawBufferPointer, at offset: Int) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(load(UInt8.self, bytes, offset))
        case .int8: return .int8(load(Int8.self, bytes, offset))
        case .uint16: return .uint16(load(UInt16.self, bytes, offset))
        case .int16: return .int16(load(Int16.self, bytes, offset))
        case .uint32: return .uint32(load(UInt32.self, bytes, offset))
        case .int32: return .int32(load(Int32.self, bytes, offset))
        case .float32: return .float32(Float(bitPattern: load(UInt32.self, bytes, offset)))
        case .bool: return .bool(load(UInt8.self, bytes, offset) != 0)
        case .uint64: return .uint64(load(UInt64.self, bytes, offset))
        case .int64: return .int64(load(Int64.self, bytes, offset))
        case .float64: return .float64(Double(bitPattern: load(UInt64.self, bytes, offset)))
        case .string, .array: preconditionFailure("\(type) is not a fixed-size GGUF type")
        }
    }
}
