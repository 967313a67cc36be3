import FoundationEssentials
import Glibc

/// The header of a safetensors file: an 8-byte little-endian length, then that many bytes of JSON naming each
/// tensor's dtype, shape and byte range in the data that follows. Read with strict bounds: a header that lies about
/// its size, names an unknown dtype, or points outside the file is an error.
public struct SafetensorsHeader: Sendable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var shape: [UInt64]
        public var byteRange: Range<UInt64>
        public var elementCount: UInt64 { shape.reduce(1, *) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public var tensors: [Tensor]
    public var metadata: [String: String]
    public var fileSize: UInt64

    /// Bytes per element of each dtype safetensors defines.
    static let dtypeBytes: [String: UInt64] = ["BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
                                               "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8]
    static let maxHeaderBytes: UInt64 = 100 << 20

    public static func read(path: String) throws(Failure) -> SafetensorsHeader {
        guard let file = fopen(path, "rb") else { throw Failure(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        fseeko(file, 0, SEEK_END)
        let size = UInt64(max(ftello(file), 0))
        fseeko(file, 0, SEEK_SET)
        var prefix = [UInt8](repeating: 0, count: 8)
        guard size >= 8, fread(&prefix, 1, 8, file) == 8 else { throw Failure(description: "\(path): shorter than the 8-byte header length") }
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= maxHeaderBytes, length <= size - 8 else {
            throw Failure(description: "\(path): header length \(length) exceeds the file (\(size) bytes) or 100 MiB")
        }
        var header = [UInt8](repeating: 0, count: Int(length))
        guard fread(&header, 1, header.count, file) == header.count else { throw Failure(description: "\(path): truncated header") }
        return try parse(header, dataBytes: size - 8 - length, fileSize: size, path: path)
    }

    static func parse(_ header: [UInt8], dataBytes: UInt64, fileSize: UInt64, path: String) throws(Failure) -> SafetensorsHeader {
        let json: JSONValue
        do { json = try JSONDecoder().decode(JSONValue.self, from: Data(header)) } catch {
            throw Failure(description: "\(path): the header is not valid JSON")
        }
        guard case .object(let entries) = json else { throw Failure(description: "\(path): the header is not a JSON object") }
        var result = SafetensorsHeader(tensors: [], metadata: [:], fileSize: fileSize)
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                guard case .object(let fields) = entry else { throw Failure(description: "\(path): __metadata__ is not an object") }
                for (key, value) in fields { if case .string(let text) = value { result.metadata[key] = text } }
                continue
            }
            result.tensors.append(try tensor(name, entry, dataBytes: dataBytes, path: path))
        }
        return result
    }

    private static func tensor(_ name: String, _ entry: JSONValue, dataBytes: UInt64, path: String) throws(Failure) -> Tensor {
        func bad(_ why: String) -> Failure { Failure(description: "\(path): tensor '\(name)': \(why)") }
        guard case .object(let fields) = entry, case .string(let dtype)? = fields["dtype"],
              case .array(let shapeValues)? = fields["shape"], case .array(let offsets)? = fields["data_offsets"], offsets.count == 2 else {
            throw bad("needs dtype, shape and data_offsets [begin, end]")
        }
        guard let width = dtypeBytes[dtype] else { throw bad("unknown dtype \(dtype)") }
        var shape: [UInt64] = []
        for value in shapeValues {
            guard case .number(let n) = value, n >= 0, n == n.rounded(), n < 1e15 else { throw bad("shape holds a value that is not a size") }
            shape.append(UInt64(n))
        }
        guard case .number(let begin) = offsets[0], case .number(let end) = offsets[1], begin >= 0, end >= begin, end <= Double(dataBytes) else {
            throw bad("data_offsets lie outside the \(dataBytes) data bytes")
        }
        var elements: UInt64 = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw bad("shape overflows") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: width)
        guard !overflow, bytes == UInt64(end) - UInt64(begin) else { throw bad("holds \(UInt64(end) - UInt64(begin)) bytes, its shape and dtype need \(bytes)") }
        return Tensor(name: name, dtype: dtype, shape: shape, byteRange: UInt64(begin)..<UInt64(end))
    }
}
