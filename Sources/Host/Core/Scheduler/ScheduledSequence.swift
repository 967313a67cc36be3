import Synchronization

/// One generation as the engine tracks it, owned by the engine thread (only `cancel` crosses threads).
final class ScheduledSequence: @unchecked Sendable {
    // SAFETY: every stored property but `cancelFlag` and `continuation` is read and written on the engine thread
    // only; `cancelFlag` is atomic and AsyncStream's continuation is thread-safe.
    let id: UInt64
    let priority: GenerationRequest.Priority
    let arrival: UInt64
    let input: LLMRequestInput
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
    var output: TextOutput
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

    init(id: UInt64, arrival: UInt64, request: GenerationRequest, priority: GenerationRequest.Priority, prompt: [Int32],
         input: LLMRequestInput, output: TextOutput, continuation: AsyncStream<GenerationEvent>.Continuation) {
        self.id = id
        self.arrival = arrival
        self.priority = priority
        self.apiKey = request.apiKey
        self.keyWeight = request.keyWeight.isFinite && request.keyWeight > 0 ? request.keyWeight : 1
        self.deadline = request.deadline
        self.input = input
        self.promptCount = prompt.count
        self.known = prompt
        self.output = output
        self.continuation = continuation
        self.timing = SequenceTiming(queued: MonotonicClock.seconds())
    }

    /// Asks for the sequence to end at the next step boundary (any thread).
    func cancel() { cancelFlag.store(true, ordering: .releasing) }
    var isCancelled: Bool { cancelFlag.load(ordering: .acquiring) }

    func view(keyTime: Double = 0) -> SequenceView {
        SequenceView(id: id, priority: priority, arrival: arrival, known: known.count, computed: computed,
                     pages: pages.count, hasRequest: request != nil, isCancelled: isCancelled || hasEnded, keyTime: keyTime,
                     saved: savedKV?.pages ?? 0,
                     startBy: deadline)
    }

    func emit(_ event: GenerationEvent) {
        continuation.yield(event)
        switch event {
        case .finished, .failed: continuation.finish()
        case .started, .text: break
        }
    }

    var usage: Usage { Usage(promptTokens: promptCount, completionTokens: output.tokenCount, deviceSeconds: deviceSeconds) }
}

/// When a sequence was queued and produced its tokens (seconds on the monotonic clock).
final class SequenceTiming: @unchecked Sendable {
    // SAFETY: engine thread only.
    let queued: Double
    var firstToken: Double?
    var lastToken: Double?

    init(queued: Double) { self.queued = queued }
}
