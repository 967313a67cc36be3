/// Block layout of a ggml tensor element type, by its GGUF id (ids and layouts are fixed by the format; see
/// ggml-common.h). Used to size tensor data; ids outside this table are kept but their size is unknown.
public struct GGMLType: Sendable, Equatable {
    /// The GGUF type id, e.g. 12 for Q4_K.
    public let id: UInt32
    /// The ggml name, e.g. "Q4_K".
    public let name: String
    /// Elements per block (1 for plain types).
    public let blockSize: UInt64
    /// Bytes per block.
    public let blockBytes: UInt64

    /// The layout of type `id`, or nil when this reader does not know it.
    public static func layout(of id: UInt32) -> GGMLType? { known[id] }

    /// Bytes of `elements` elements, or nil if `elements` is not a multiple of the block size or overflows.
    public func bytes(forElements elements: UInt64) -> UInt64? {
        guard elements % blockSize == 0 else { return nil }
        let (total, overflow) = (elements / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : total
    }

    private static let superBlock: UInt64 = 256

    private static let known: [UInt32: GGMLType] = {
        let k = superBlock
        let table: [(UInt32, String, UInt64, UInt64)] = [
            (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
            (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 36),
            (10, "Q2_K", k, k / 16 + k / 4 + 4), (11, "Q3_K", k, k / 8 + k / 4 + 14),
            (12, "Q4_K", k, 16 + k / 2), (13, "Q5_K", k, 16 + k / 8 + k / 2),
            (14, "Q6_K", k, k / 2 + k / 4 + k / 16 + 2), (15, "Q8_K", k, 4 + k + k / 8),
            (24, "I8", 1, 1), (25, "I16", 1, 2), (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8),
            (30, "BF16", 1, 2),
        ]
        return Dictionary(uniqueKeysWithValues: table.map { ($0.0, GGMLType(id: $0.0, name: $0.1, blockSize: $0.2, blockBytes: $0.3)) })
    }()
}
