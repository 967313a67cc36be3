/// Writes small GGUF files for tests: any metadata values, and tensors with their data, laid out as the format
/// says (so `GGUFFile` must accept the result; tests then break it on purpose).
struct GGUFBuilder {
    /// A metadata value to write; arrays carry their element type so that empty arrays can be written.
    indirect enum Value {
        case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), float32(Float)
        case bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
        case array(UInt32, [Value])

        var typeID: UInt32 {
            switch self {
            case .uint8: return 0
            case .int8: return 1
            case .uint16: return 2
            case .int16: return 3
            case .uint32: return 4
            case .int32: return 5
            case .float32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .uint64: return 10
            case .int64: return 11
            case .float64: return 12
            }
        }

        var encoded: [UInt8] {
            switch self {
            case .uint8(let v): return [v]
            case .int8(let v): return [UInt8(bitPattern: v)]
            case .uint16(let v): return GGUFBuilder.little(v)
            case .int16(let v): return GGUFBuilder.little(v)
            case .uint32(let v): return GGUFBuilder.little(v)
            case .int32(let v): return GGUFBuilder.little(v)
            case .float32(let v): return GGUFBuilder.little(v.bitPattern)
            case .bool(let v): return [v ? 1 : 0]
            case .string(let v): return GGUFBuilder.string(v)
            case .uint64(let v): return GGUFBuilder.little(v)
            case .int64(let v): return GGUFBuilder.little(v)
            case .float64(let v): return GGUFBuilder.little(v.bitPattern)
            case .array(let type, let elements):
                return GGUFBuilder.little(type) + GGUFBuilder.little(UInt64(elements.count)) + elements.flatMap(\.encoded)
            }
        }
    }

    /// A tensor to describe and store.
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var type: UInt32
        var data: [UInt8]
    }

    var version: UInt32 = 3
    var metadata: [(String, Value)] = []
    var tensors: [Tensor] = []
    var alignment = 32

    /// The file's bytes.
    func bytes() -> [UInt8] {
        var out = headerAndInfos()
        out += [UInt8](repeating: 0, count: Self.padded(out.count, alignment) - out.count)
        for tensor in tensors {
            out += tensor.data + [UInt8](repeating: 0, count: Self.padded(tensor.data.count, alignment) - tensor.data.count)
        }
        return out
    }

    /// The header, metadata and tensor infos: everything before the padding of the data section.
    func headerAndInfos() -> [UInt8] {
        var out = Array("GGUF".utf8) + Self.little(version) + Self.little(UInt64(tensors.count))
            + Self.little(UInt64(metadata.count))
        for (key, value) in metadata {
            out += Self.string(key) + Self.little(value.typeID) + value.encoded
        }
        var offset = 0
        for tensor in tensors {
            out += Self.string(tensor.name) + Self.little(UInt32(tensor.dimensions.count))
            out += tensor.dimensions.flatMap { Self.little($0) } + Self.little(tensor.type) + Self.little(UInt64(offset))
            offset += Self.padded(tensor.data.count, alignment)
        }
        return out
    }

    static func little<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func string(_ text: String) -> [UInt8] { little(UInt64(text.utf8.count)) + Array(text.utf8) }

    static func padded(_ count: Int, _ alignment: Int) -> Int { (count + alignment - 1) / alignment * alignment }
}
