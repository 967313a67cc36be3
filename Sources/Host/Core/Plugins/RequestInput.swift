import PluginABI

/// Sampling and limits of a token request (px_llm_input without the C).
public struct LLMRequestInput: Sendable, Equatable {
    public var promptTokenCount: UInt32
    public var maxNewTokens: UInt32
    public var temperature: Float = 0
    public var topP: Float = 1
    public var minP: Float = 0
    public var topK: Int32 = 0
    public var repetitionPenalty: Float = 1
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    public var logprobs = false
    public var topLogprobs: UInt32 = 0
    public var seed: UInt64 = 0
    public var stopTokens: [Int32] = []

    public init(promptTokenCount: UInt32, maxNewTokens: UInt32) {
        self.promptTokenCount = promptTokenCount
        self.maxNewTokens = maxNewTokens
    }
}

/// A diffusion image request (px_image_input without the C).
public struct ImageRequestInput: Sendable, Equatable {
    public var prompt: String
    public var negativePrompt: String?
    public var width: UInt32
    public var height: UInt32
    public var images: UInt32 = 1
    public var steps: UInt32
    public var guidance: Float = 7.5
    public var seed: UInt64 = 0

    public init(prompt: String, width: UInt32, height: UInt32, steps: UInt32) {
        self.prompt = prompt
        self.width = width
        self.height = height
        self.steps = steps
    }
}

/// A text-to-video request (px_video_input without the C).
public struct VideoRequestInput: Sendable, Equatable {
    public var prompt: String
    public var negativePrompt: String?
    public var width: UInt32
    public var height: UInt32
    public var frames: UInt32
    public var fps: UInt32 = 24
    public var steps: UInt32
    public var guidance: Float = 6
    public var seed: UInt64 = 0

    public init(prompt: String, width: UInt32, height: UInt32, frames: UInt32, steps: UInt32) {
        self.prompt = prompt
        self.width = width
        self.height = height
        self.frames = frames
        self.steps = steps
    }
}

/// The input of one request, by kind.
public enum RequestInput: Sendable, Equatable {
    case tokens(kind: UInt32, LLMRequestInput)
    case image(ImageRequestInput)
    case video(VideoRequestInput)

    /// PX_KIND_* of the request.
    public var kind: UInt32 {
        switch self {
        case .tokens(let kind, _): return kind
        case .image: return UInt32(PX_KIND_IMAGE)
        case .video: return UInt32(PX_KIND_VIDEO)
        }
    }

    /// Lays the input out as its C struct in `arena`, which must outlive the request.
    func cStruct(in arena: CArena) -> UnsafeRawPointer {
        switch self {
        case .tokens(_, let input):
            var c = px_llm_input()
            c.header = px_header(size: UInt32(MemoryLayout<px_llm_input>.size), version: 1)
            c.n_prompt_tokens = input.promptTokenCount
            c.max_new_tokens = input.maxNewTokens
            c.temperature = input.temperature
            c.top_p = input.topP
            c.min_p = input.minP
            c.top_k = input.topK
            c.repetition_penalty = input.repetitionPenalty
            c.frequency_penalty = input.frequencyPenalty
            c.presence_penalty = input.presencePenalty
            c.n_top_logprobs = input.topLogprobs
            c.seed = input.seed
            c.flags = input.logprobs ? UInt32(PX_LLM_LOGPROBS) : 0
            c.n_stop_tokens = UInt32(input.stopTokens.count)
            c.stop_tokens = UnsafePointer(arena.array(input.stopTokens))
            c.image_stride = UInt32(MemoryLayout<px_image_span>.stride)
            return UnsafeRawPointer(arena.value(c))
        case .image(let input):
            var c = px_image_input()
            c.header = px_header(size: UInt32(MemoryLayout<px_image_input>.size), version: 1)
            c.prompt = arena.string(input.prompt)
            c.negative_prompt = input.negativePrompt.map { arena.string($0) }
            c.width = input.width
            c.height = input.height
            c.n_images = input.images
            c.n_steps = input.steps
            c.guidance = input.guidance
            c.seed = input.seed
            return UnsafeRawPointer(arena.value(c))
        case .video(let input):
            var c = px_video_input()
            c.header = px_header(size: UInt32(MemoryLayout<px_video_input>.size), version: 1)
            c.prompt = arena.string(input.prompt)
            c.negative_prompt = input.negativePrompt.map { arena.string($0) }
            c.width = input.width
            c.height = input.height
            c.n_frames = input.frames
            c.fps = input.fps
            c.n_steps = input.steps
            c.guidance = input.guidance
            c.seed = input.seed
            return UnsafeRawPointer(arena.value(c))
        }
    }
}
