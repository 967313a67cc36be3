import PluginABI

/// What a loaded model is, copied out of px_model_info and checked against the contract.
public struct ModelInfo: Sendable, Equatable {
    public var kind: UInt32
    public var architecture: String
    public var weightBytes: UInt64
    public var vocabSize: UInt32
    public var contextLength: UInt32
    public var maxBatchTokens: UInt32
    public var maxBatchItems: UInt32
    public var kvPageTokens: UInt32
    public var embeddingSize: UInt32
    public var kvPageBytes: UInt64
    public var defaultWidth: UInt32
    public var defaultHeight: UInt32
    public var defaultSteps: UInt32
    public var defaultFrames: UInt32

    init(_ c: px_model_info) {
        kind = c.kind
        architecture = PluginLibrary.string(c.architecture) ?? ""
        weightBytes = c.weight_bytes
        vocabSize = c.vocab_size
        contextLength = c.context_length
        maxBatchTokens = c.max_batch_tokens
        maxBatchItems = c.max_batch_items
        kvPageTokens = c.kv_page_tokens
        embeddingSize = c.embedding_size
        kvPageBytes = c.kv_page_bytes
        defaultWidth = c.default_width
        defaultHeight = c.default_height
        defaultSteps = c.default_steps
        defaultFrames = c.default_frames
    }

    /// Whether the model consumes token ids (LLM, VLM, embedding).
    public var takesTokens: Bool {
        kind == UInt32(PX_KIND_LLM) || kind == UInt32(PX_KIND_VLM) || kind == UInt32(PX_KIND_EMBEDDING)
    }

    /// Whether the model runs denoise steps (an image model) rather than tokens.
    public var denoises: Bool { kind == UInt32(PX_KIND_IMAGE) }

    /// The first way this description breaks the contract for a plugin serving `kinds`, or nil.
    func problem(servedKinds kinds: UInt32) -> String? {
        guard kind >= UInt32(PX_KIND_LLM), kind <= UInt32(PX_KIND_EMBEDDING) else { return "kind \(kind) is unknown" }
        guard kinds & (1 << kind) != 0 else { return "kind \(kind) is not among the kinds the plugin declared" }
        if takesTokens {
            if vocabSize == 0 { return "vocab_size is 0" }
            if contextLength == 0 { return "context_length is 0" }
            if maxBatchTokens == 0 || maxBatchItems == 0 { return "max_batch_tokens or max_batch_items is 0" }
            if (kvPageTokens == 0) != (kvPageBytes == 0) { return "kv_page_tokens and kv_page_bytes must both be 0 or both set" }
        } else if defaultWidth == 0 || defaultHeight == 0 || defaultSteps == 0 {
            return "an image or video model must state default_width, default_height and default_steps"
        }
        if kind == UInt32(PX_KIND_VIDEO) && defaultFrames == 0 { return "a video model must state default_frames" }
        return nil
    }
}
