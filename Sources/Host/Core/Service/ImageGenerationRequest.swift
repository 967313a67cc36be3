/// One image generation as the API hands it to the service (OpenAI's images/generations fields, plus the
/// diffusion settings OpenAI leaves to the model). Nil fields take the model's defaults.
public struct ImageGenerationRequest: Sendable, Equatable {
    public var model: String
    public var prompt: String
    public var negativePrompt: String?
    /// Images to generate (OpenAI's `n`).
    public var count = 1
    public var width: Int?
    public var height: Int?
    /// Denoise steps.
    public var steps: Int?
    /// Classifier-free guidance scale.
    public var guidance: Double?
    /// Same seed, model and settings: the same images.
    public var seed: UInt64?
    /// The request's class; nil: the model's.
    public var priority: GenerationRequest.Priority?
    public var apiKey: String?
    public var keyWeight = 1.0
    /// Monotonic seconds by which the generation must start.
    public var deadline: Double?

    public init(model: String, prompt: String) {
        self.model = model
        self.prompt = prompt
    }

    /// Most images one request may ask for (OpenAI's limit for `n`).
    public static let maxCount = 10

    /// The plugin's input: the model's defaults where the request says nothing, and every check that does not
    /// depend on the model (the plugin checks what its model can do when the request reaches it).
    func input(defaults info: ModelInfo) throws(ServiceError) -> ImageRequestInput {
        func invalid(_ message: String, _ param: String) -> ServiceError { ServiceError(.invalidRequest, message, param: param, retryable: false) }
        guard !prompt.isEmpty, prompt.utf8.count <= 32_000 else { throw invalid("prompt must be 1 to 32000 bytes", "prompt") }
        guard (1...Self.maxCount).contains(count) else { throw invalid("n must be 1 to \(Self.maxCount), got \(count)", "n") }
        let width = width ?? Int(info.defaultWidth), height = height ?? Int(info.defaultHeight)
        guard (1...4096).contains(width), (1...4096).contains(height) else {
            throw invalid("size must be WIDTHxHEIGHT with each side 1 to 4096, got \(width)x\(height)", "size")
        }
        let steps = steps ?? Int(info.defaultSteps)
        guard (1...1000).contains(steps) else { throw invalid("steps must be 1 to 1000, got \(steps)", "steps") }
        if let guidance, !(guidance.isFinite && guidance >= 1 && guidance <= 100) {
            throw invalid("guidance must be 1 to 100, got \(guidance)", "guidance")
        }
        var input = ImageRequestInput(prompt: prompt, width: UInt32(width), height: UInt32(height), steps: UInt32(steps))
        input.negativePrompt = negativePrompt
        input.images = UInt32(count)
        input.guidance = Float(guidance ?? 0)  // 0: the model's default
        input.seed = seed ?? UInt64.random(in: 0...UInt64.max)
        return input
    }
}
