import PluginABI

/// Reads the output structs a plugin hands to the sink, checking every size, count and pointer before copying.
enum OutputDecoding {
    /// Most tokens one emit_tokens call may carry.
    static let maxTokensPerEmit: UInt32 = 1 << 16
    /// Most alternatives per token (OpenAI's top_logprobs limit).
    static let maxTop: UInt32 = 20
    /// Largest tensor one emit_tensor call may carry.
    static let maxTensorBytes: UInt64 = 1 << 32

    static func tokens(_ pointer: UnsafePointer<px_tokens_out>?, vocabSize: UInt32) throws(ServiceFailure) -> TokenOutput {
        guard let pointer else { throw invalid("emit_tokens: NULL output") }
        let out = pointer.pointee
        guard out.header.size >= UInt32(MemoryLayout<px_tokens_out>.size) else {
            throw invalid("emit_tokens: px_tokens_out.header.size \(out.header.size) is smaller than ABI 1.0's \(MemoryLayout<px_tokens_out>.size)")
        }
        let n = Int(out.n_tokens), top = Int(out.n_top)
        guard out.n_tokens > 0, out.n_tokens <= maxTokensPerEmit, let ids = out.tokens else {
            throw invalid("emit_tokens: n_tokens \(out.n_tokens) must be 1...\(maxTokensPerEmit) with a non-NULL tokens array")
        }
        guard out.n_top <= maxTop else { throw invalid("emit_tokens: n_top \(out.n_top) exceeds \(maxTop)") }
        let tokens = Array(UnsafeBufferPointer(start: ids, count: n))
        if vocabSize > 0, let bad = tokens.first(where: { $0 < 0 || UInt32($0) >= vocabSize }) {
            throw invalid("emit_tokens: token \(bad) is outside the vocabulary of \(vocabSize)")
        }
        var output = TokenOutput(tokens: tokens)
        if let logprobs = out.logprobs { output.logprobs = Array(UnsafeBufferPointer(start: logprobs, count: n)) }
        if top > 0 {
            guard let topTokens = out.top_tokens, let topLogprobs = out.top_logprobs else {
                throw invalid("emit_tokens: n_top \(top) with NULL top_tokens or top_logprobs")
            }
            output.topTokens = (0..<n).map { Array(UnsafeBufferPointer(start: topTokens + $0 * top, count: top)) }
            output.topLogprobs = (0..<n).map { Array(UnsafeBufferPointer(start: topLogprobs + $0 * top, count: top)) }
        }
        return output
    }

    static func tensor(_ pointer: UnsafePointer<px_tensor_out>?) throws(ServiceFailure) -> TensorOutput {
        guard let pointer else { throw invalid("emit_tensor: NULL output") }
        let out = pointer.pointee
        guard out.header.size >= UInt32(MemoryLayout<px_tensor_out>.size) else {
            throw invalid("emit_tensor: px_tensor_out.header.size \(out.header.size) is smaller than ABI 1.0's \(MemoryLayout<px_tensor_out>.size)")
        }
        let tensor = out.tensor
        guard let elementSize = dtypeSize(tensor.dtype) else { throw invalid("emit_tensor: unknown dtype \(tensor.dtype)") }
        guard tensor.ndim >= 1, tensor.ndim <= UInt32(PX_MAX_DIMS) else {
            throw invalid("emit_tensor: ndim \(tensor.ndim) must be 1...\(PX_MAX_DIMS)")
        }
        let shape = withUnsafeBytes(of: tensor.shape) { Array($0.bindMemory(to: Int64.self).prefix(Int(tensor.ndim))) }
        var elements: UInt64 = 1
        for dim in shape {
            guard dim > 0 else { throw invalid("emit_tensor: shape \(shape) has a dimension <= 0") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: UInt64(dim))
            guard !overflow, product <= maxTensorBytes else { throw invalid("emit_tensor: shape \(shape) is too large") }
            elements = product
        }
        let bytes = elements * UInt64(elementSize)
        guard tensor.bytes == bytes, bytes <= maxTensorBytes, let data = tensor.data else {
            throw invalid("emit_tensor: bytes \(tensor.bytes) does not match shape \(shape) of element size \(elementSize), or data is NULL")
        }
        let copy = Array(UnsafeRawBufferPointer(start: data, count: Int(bytes)))
        return TensorOutput(role: out.role, index: out.index, dtype: tensor.dtype, shape: shape, data: copy)
    }

    static func final(_ pointer: UnsafePointer<px_final>?) throws(ServiceFailure) -> FinalOutput {
        guard let pointer else { throw invalid("emit_final: NULL final") }
        let final = pointer.pointee
        guard final.header.size >= UInt32(MemoryLayout<px_final>.size) else {
            throw invalid("emit_final: px_final.header.size \(final.header.size) is smaller than ABI 1.0's \(MemoryLayout<px_final>.size)")
        }
        guard final.reason <= UInt32(PX_FINISH_ERROR) else { throw invalid("emit_final: unknown reason \(final.reason)") }
        let message = final.message.map { String(cString: $0) }
        return FinalOutput(reason: final.reason, status: final.status, message: message, byHost: false)
    }

    /// Bytes per element of a PX_DTYPE_*, or nil for an unknown dtype.
    static func dtypeSize(_ dtype: UInt32) -> Int? {
        switch Int(dtype) {
        case PX_DTYPE_F32, PX_DTYPE_I32: return 4
        case PX_DTYPE_F16, PX_DTYPE_BF16: return 2
        case PX_DTYPE_U8, PX_DTYPE_I8: return 1
        case PX_DTYPE_I64: return 8
        default: return nil
        }
    }

    private static func invalid(_ message: String) -> ServiceFailure { ServiceFailure(PX_ERR_INVALID_ARGUMENT, message) }
}
