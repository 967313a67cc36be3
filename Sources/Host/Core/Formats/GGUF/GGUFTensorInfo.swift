/// One tensor described by a GGUF file: where its data lies and how to read it. The data is not touched.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor name, e.g. "blk.0.attn_q.weight".
    public let name: String
    /// The ggml type id (see `GGMLType`).
    public let typeID: UInt32
    /// The dimensions, innermost first (ggml's ne[0], ne[1], ...), 1 to 4 of them.
    public let dimensions: [UInt64]
    /// Offset of the data from the start of the file's data section.
    public let offset: UInt64
    /// Bytes of data, when the type is known to this reader.
    public let byteCount: UInt64?

    /// The number of elements (the product of the dimensions; checked not to overflow when the file was read).
    public var elementCount: UInt64 { dimensions.reduce(1, *) }

    /// The type's layout, when known.
    public var type: GGMLType? { GGMLType.layout(of: typeID) }
}
