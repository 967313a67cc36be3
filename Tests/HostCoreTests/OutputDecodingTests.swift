import PluginABI
import Testing
@testable import HostCore

/// Outputs from plugins are checked before they are copied: sizes, counts, shapes, pointers.
@Suite struct OutputDecodingTests {
    private func tensorOut(shape: [Int64], dtype: Int, bytes: UInt64, data: UnsafeRawPointer?) -> px_tensor_out {
        var out = px_tensor_out()
        out.header = px_header(size: UInt32(MemoryLayout<px_tensor_out>.size), version: 1)
        out.role = UInt32(PX_OUT_IMAGE)
        out.tensor.header = px_header(size: UInt32(MemoryLayout<px_tensor>.size), version: 1)
        out.tensor.dtype = UInt32(dtype)
        out.tensor.ndim = UInt32(shape.count)
        withUnsafeMutableBytes(of: &out.tensor.shape) { raw in
            for (index, dim) in shape.enumerated() { raw.storeBytes(of: dim, toByteOffset: index * 8, as: Int64.self) }
        }
        out.tensor.bytes = bytes
        out.tensor.data = data
        return out
    }

    @Test func copiesAWellFormedImage() throws {
        let pixels = [UInt8](repeating: 7, count: 2 * 3 * 3)
        let decoded = try pixels.withUnsafeBytes { raw in
            var out = tensorOut(shape: [2, 3, 3], dtype: PX_DTYPE_U8, bytes: 18, data: raw.baseAddress)
            return try OutputDecoding.tensor(&out)
        }
        #expect(decoded.shape == [2, 3, 3])
        #expect(decoded.data == pixels)
    }

    @Test(arguments: [
        ([2, 3, 3] as [Int64], 17 as UInt64, "does not match shape"),
        ([0, 3], 0, "dimension <= 0"),
        ([1 << 40, 1 << 40], 0, "too large"),
    ])
    func refusesMalformedTensors(shape: [Int64], bytes: UInt64, message: String) {
        var byte: UInt8 = 0
        var out = tensorOut(shape: shape, dtype: PX_DTYPE_U8, bytes: bytes, data: &byte)
        do {
            _ = try OutputDecoding.tensor(&out)
            Issue.record("accepted \(shape)")
        } catch {
            #expect(error.status == PX_ERR_INVALID_ARGUMENT)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func refusesTokensOutsideTheVocabularyAndTooManyAlternatives() {
        var tokens: [Int32] = [3, 900]
        tokens.withUnsafeMutableBufferPointer { buffer in
            var out = px_tokens_out()
            out.header = px_header(size: UInt32(MemoryLayout<px_tokens_out>.size), version: 1)
            out.tokens = UnsafePointer(buffer.baseAddress)
            out.n_tokens = 2
            #expect(throws: ServiceFailure.self) { try OutputDecoding.tokens(&out, vocabSize: 512) }
            #expect((try? OutputDecoding.tokens(&out, vocabSize: 1000))?.tokens == [3, 900])
            out.n_top = 21
            #expect(throws: ServiceFailure.self) { try OutputDecoding.tokens(&out, vocabSize: 1000) }
            out.n_top = 0
            out.header.size = 8
            #expect(throws: ServiceFailure.self) { try OutputDecoding.tokens(&out, vocabSize: 1000) }
        }
    }
}
