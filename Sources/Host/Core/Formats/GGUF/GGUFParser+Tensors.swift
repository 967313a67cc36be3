extension GGUFParser {
    /// `general.alignment` if present: a uint32 power of two.
    static func alignment(in metadata: GGUFMetadata, path: String) throws(GGUFError) -> UInt64 {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw GGUFError(path: path, message: "general.alignment must be a uint32, not a \(value.type)")
        }
        guard alignment != 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(path: path, message: "general.alignment \(alignment) is not a power of two")
        }
        return UInt64(alignment)
    }

    mutating func readTensorInfo(index: Int, alignment: UInt64) throws(GGUFError) -> GGUFTensorInfo {
        let start = offset
        let name = try readTensorName(index: index)
        let dimensionCount: UInt32 = try read("dimension count of tensor '\(name)'")
        guard dimensionCount <= Self.maximumDimensions else {
            throw failure("tensor '\(name)' has \(dimensionCount) dimensions, more than \(Self.maximumDimensions)", at: start)
        }
        var dimensions: [UInt64] = []
        var elements: UInt64 = 1
        for axis in 0..<Int(dimensionCount) {
            let size: UInt64 = try read("dimension \(axis) of tensor '\(name)'")
            guard size <= UInt64(Int64.max) else {
                throw failure("dimension \(axis) of tensor '\(name)' is \(size), above 2^63 - 1", at: start)
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= UInt64(Int64.max) else {
                throw failure("tensor '\(name)' has more than 2^63 - 1 elements", at: start)
            }
            elements = product
            dimensions.append(size)
        }
        let typeID: UInt32 = try read("type of tensor '\(name)'")
        let dataOffset: UInt64 = try read("data offset of tensor '\(name)'")
        guard dataOffset % alignment == 0 else {
            throw failure("data offset \(dataOffset) of tensor '\(name)' is not a multiple of the alignment \(alignment)", at: start)
        }
        var byteCount: UInt64?
        if let type = GGMLType.layout(of: typeID) {
            guard (dimensions.first ?? 1) % type.blockSize == 0 else {
                throw failure("tensor '\(name)' of type \(type.name) has rows of \(dimensions.first ?? 1) elements, "
                           + "not a multiple of the block size \(type.blockSize)", at: start)
            }
            guard let bytes = type.bytes(forElements: elements) else {
                throw failure("tensor '\(name)' is too large to address", at: start)
            }
            byteCount = bytes
        }
        return GGUFTensorInfo(name: name, typeID: typeID, dimensions: dimensions, offset: dataOffset, byteCount: byteCount)
    }

    /// Where the data section starts (the end of the tensor infos, padded to the alignment); checks that every
    /// tensor of known size lies inside the file.
    func dataSection(alignment: UInt64, tensors: [GGUFTensorInfo]) throws(GGUFError) -> UInt64 {
        let end = UInt64(offset)
        let padded = (end + alignment - 1) / alignment * alignment
        guard !tensors.isEmpty else { return min(padded, UInt64(bytes.count)) }
        guard padded <= UInt64(bytes.count) else {
            throw failure("the data section would start at \(padded), past the end of the \(bytes.count)-byte file", at: offset)
        }
        let available = UInt64(bytes.count) - padded
        for tensor in tensors {
            guard let count = tensor.byteCount else { continue }
            let (last, overflow) = tensor.offset.addingReportingOverflow(count)
            guard !overflow, last <= available else {
                throw failure("data of tensor '\(tensor.name)' (\(count) bytes at data offset \(tensor.offset)) runs past "
                           + "the end of the file (\(available) bytes of data)", at: offset)
            }
        }
        return padded
    }

    private mutating func readTensorName(index: Int) throws(GGUFError) -> String {
        let start = offset
        let name = try readString("name of tensor \(index)")
        guard name.utf8.count <= Self.maximumTensorName else {
            throw failure("name of tensor \(index) is \(name.utf8.count) bytes, more than \(Self.maximumTensorName)", at: start)
        }
        return name
    }
}
