import Synchronization

/// One generation as the engine tracks it, owned by the engine thread (only `cancel` crosses threads).
final class ScheduledSequence: @unchecked Sendable {
    // SAFETY: every stored property but `cancelFlag` and `continuation` is read and written on the engine thread
    // only; `cancelFlag` is atomic and AsyncStream's continuation is thread-safe.
    let id: UInt64
    let priority: GenerationRequest.Priority
    let arrival: UInt64
    /// What the sequence runs: tokens through a token model, or denoise steps through an image model.
    let work: Work
    let promptCount: Int
    let apiKey: String?
    /// The key's fair-share weight (from the key's configuration when the request came).
    let keyWeight: Double
    /// Monotonic seconds by which the sequence must start (the request's deadline).
    let deadline: Double?
    /// The prompt followed by every token generated so far.
    var known: [Int32]
    /// Positions whose K/V sit in `pages`.
    var computed = 0
    var pages: [UInt32] = []
    /// The KV of `computed` positions, saved in host memory while the sequence is preempted (it gave its pages back
    /// and will continue where it stopped), and how many pages it fills.
    var savedKV: (buffer: HostBuffer, pages: Int)?
    /// The plugin's request, from the first step that includes the sequence.
    var request: ModelRequest?
    /// The text of a token sequence (nil for a denoise sequence).
    var output: TextOutput?
    /// Denoise steps run so far, and images received (a denoise sequence).
    var unitsDone = 0
    var imagesReceived = 0
    /// The shape the output must keep (response_format), advanced token by token.
    var constraint: JSONConstraint?
    /// Set once the client saw the end (a stop string, or FINAL): later plugin events only close the request.
    var hasEnded = false
    /// Counted out of the model's waiting queue (first step, or ended before one).
    var leftQueue = false
    let timing: SequenceTiming
    /// Device seconds attributed to this sequence.
    var deviceSeconds = 0.0
    private let cancelFlag = Atomic<Bool>(false)
    private let continuation: AsyncStream<GenerationEvent>.Continuation

    /// What a sequence runs.
    enum Work {
        case tokens(LLMRequestInput)
        case denoise(ImageRequestInput)
    }

    /// Who asked, and how urgently: the fields of a request the engine schedules by.
    struct Submission {
        var priority: GenerationRequest.Priority
        var apiKey: String?
        var keyWeight: Double
        var deadline: Double?
    }

    private init(id: UInt64, arrival: UInt64, submission: Submission, work: Work, prompt: [Int32], output: TextOutput?,
                 continuation: AsyncStream<GenerationEvent>.Continuation) {
        self.id = id
        self.arrival = arrival
        self.priority = submission.priority
        self.apiKey = submission.apiKey
        self.keyWeight = submission.keyWeight.isFinite && submission.keyWeight > 0 ? submission.keyWeight : 1
        self.deadline = submission.deadline
        self.work = work
        self.promptCount = prompt.count
        self.known = prompt
        self.output = output
        self.continuation = continuation
        self.timing = SequenceTiming(queued: MonotonicClock.seconds())
    }

    /// A token sequence: `prompt`, then what the model samples.
    convenience init(id: UInt64, arrival: UInt64, request: GenerationRequest, priority: GenerationRequest.Priority, prompt: [Int32],
                     input: LLMRequestInput, output: TextOutput, continuation: AsyncStream<GenerationEvent>.Continuation) {
        self.init(id: id, arrival: arrival,
                  submission: Submission(priority: priority, apiKey: request.apiKey, keyWeight: request.keyWeight, deadline: request.deadline),
                  work: .tokens(input), prompt: prompt, output: output, continuation: continuation)
    }

    /// A denoise sequence: `input.steps` units over `input.images` images.
    convenience init(id: UInt64, arrival: UInt64, submission: Submission, image input: ImageRequestInput,
                     continuation: AsyncStream<GenerationEvent>.Continuation) {
        self.init(id: id, arrival: arrival, submission: submission, work: .denoise(input), prompt: [], output: nil,
                  continuation: continuation)
    }

    /// The denoise input (nil for a token sequence).
    var imageInput: ImageRequestInput? { if case .denoise(let input) = work { input } else { nil } }

    /// Asks for the sequence to end at the next step boundary (any thread).
    func cancel() { cancelFlag.store(true, ordering: .releasing) }
    var isCancelled: Bool { cancelFlag.load(ordering: .acquiring) }

    func view(keyTime: Double = 0) -> SequenceView {
        if let image = imageInput {
            return .denoise(id: id, priority: priority, arrival: arrival, units: max(0, Int(image.steps) - unitsDone),
                            images: Int(image.images), shape: ImageShape(width: Int(image.width), height: Int(image.height)),
                            hasRequest: request != nil, isCancelled: isCancelled || hasEnded, keyTime: keyTime, startBy: deadline)
        }
        return SequenceView(id: id, priority: priority, arrival: arrival, known: known.count, computed: computed,
                            pages: pages.count, hasRequest: request != nil, isCancelled: isCancelled || hasEnded, keyTime: keyTime,
                            saved: savedKV?.pages ?? 0,
                            startBy: deadline)
    }

    /// What a step item of this sequence weighs when the step's device time is shared out: tokens fed, or denoise
    /// units times images.
    func work(of item: StepPlan.Item) -> Int { item.count + item.units * Int(imageInput?.images ?? 0) }

    func emit(_ event: GenerationEvent) {
        continuation.yield(event)
        switch event {
        case .finished, .failed: continuation.finish()
        case .started, .text, .image: break
        }
    }

    var usage: Usage { Usage(promptTokens: promptCount, completionTokens: output?.tokenCount ?? 0, deviceSeconds: deviceSeconds) }
}

/// When a sequence was queued and produced its tokens (seconds on the monotonic clock).
final class SequenceTiming: @unchecked Sendable {
    // SAFETY: engine thread only.
    let queued: Double
    var firstToken: Double?
    var lastToken: Double?

    init(queued: Double) { self.queued = queued }
}
