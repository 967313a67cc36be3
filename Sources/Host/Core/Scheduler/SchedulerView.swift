/// What the scheduler sees of one sequence: enough to plan, nothing it could mutate.
public struct SequenceView: Equatable, Sendable {
    public var id: UInt64
    public var priority: GenerationRequest.Priority
    /// Order of arrival (lower came first).
    public var arrival: UInt64
    /// Tokens known: the prompt plus what was generated so far.
    public var known: Int
    /// Tokens whose K/V are in the sequence's pages.
    public var computed: Int
    /// KV pages held.
    public var pages: Int
    /// The plugin holds a request for it (it was scheduled before).
    public var hasRequest: Bool
    public var isCancelled: Bool
    /// Virtual time of the sequence's API key (device seconds its requests used, from when the key last became
    /// active): within a priority class, the key that used less goes first (fair share per key).
    public var keyTime: Double
    /// Pages of KV saved in host memory by a preemption (0: none): the sequence has no pages, its `computed`
    /// positions wait there, and it continues where it stopped once admitted again.
    public var saved: Int
    /// Monotonic seconds by which the sequence must start, if it has a deadline.
    public var startBy: Double?
    /// A denoise sequence: the units (denoise steps) it still has to run, the images each unit runs over, and their
    /// shape (sequences of one shape batch together). All 0 for a token sequence.
    public var units = 0
    public var images = 0
    public var shape = ImageShape(width: 0, height: 0)

    public init(id: UInt64, priority: GenerationRequest.Priority = .interactive, arrival: UInt64, known: Int,
                computed: Int = 0, pages: Int = 0, hasRequest: Bool = false, isCancelled: Bool = false, keyTime: Double = 0,
                saved: Int = 0, startBy: Double? = nil) {
        self.id = id
        self.priority = priority
        self.arrival = arrival
        self.known = known
        self.computed = computed
        self.pages = pages
        self.hasRequest = hasRequest
        self.isCancelled = isCancelled
        self.keyTime = keyTime
        self.saved = saved
        self.startBy = startBy
    }

    /// A denoise sequence of `units` steps over `images` images of `shape`.
    public static func denoise(id: UInt64, priority: GenerationRequest.Priority = .interactive, arrival: UInt64, units: Int,
                               images: Int = 1, shape: ImageShape, hasRequest: Bool = false, isCancelled: Bool = false,
                               keyTime: Double = 0, startBy: Double? = nil) -> SequenceView {
        var view = SequenceView(id: id, priority: priority, arrival: arrival, known: 0, hasRequest: hasRequest, isCancelled: isCancelled,
                                keyTime: keyTime, startBy: startBy)
        view.units = units
        view.images = images
        view.shape = shape
        return view
    }

    /// Tokens still to feed before the next sample.
    var pending: Int { known - computed }
    /// Decoding: exactly the last sampled token is still to feed.
    var isDecoding: Bool { pages > 0 && pending == 1 }
}

/// What the scheduler sees of one served model.
public struct ModelView: Equatable, Sendable {
    public var id: String
    /// Share of the device relative to other models (fair share).
    public var weight: Double = 1
    /// Device seconds this model used, over its weight, since it last became busy (its virtual time).
    public var virtualTime: Double = 0
    /// Most tokens and items one step may take (from the plugin's model info).
    public var maxBatchTokens: Int
    public var maxBatchItems: Int
    /// How many prompt tokens one step feeds while another sequence waits for a token: slices long prefills so
    /// decode waits at most one short step.
    public var slice: PrefillSlice
    public var pageTokens: Int
    public var freePages: Int
    /// Another model on the same stream has interactive sequences: this model's prefill is sliced too, so their
    /// next token waits at most one short step.
    public var othersInteractive = false
    /// Whether new sequences may start (false while the model drains to make room for another model's weights).
    public var admits = true
    /// Now, on the monotonic clock (for deadlines).
    public var now = 0.0
    /// A denoise model (image, video): its steps run units of same-shape sequences, sliced to this; nil for a token
    /// model.
    public var denoise: DenoiseSlice?
    public var sequences: [SequenceView]

    public init(id: String, weight: Double = 1, virtualTime: Double = 0, maxBatchTokens: Int, maxBatchItems: Int,
                slice: PrefillSlice = .fixed(128), pageTokens: Int, freePages: Int, sequences: [SequenceView]) {
        self.id = id
        self.weight = weight
        self.virtualTime = virtualTime
        self.maxBatchTokens = maxBatchTokens
        self.maxBatchItems = maxBatchItems
        self.slice = slice
        self.pageTokens = pageTokens
        self.freePages = freePages
        self.sequences = sequences
    }

    /// Whether the model has anything to do.
    var hasWork: Bool { !sequences.isEmpty }
    /// The most urgent class among its sequences.
    var topPriority: GenerationRequest.Priority {
        sequences.contains { $0.priority == .interactive } ? .interactive : .batch
    }

    func pagesFor(tokens: Int) -> Int { (tokens + pageTokens - 1) / pageTokens }
}

/// The size of a denoise sequence's images: sequences of one shape run as one batch.
public struct ImageShape: Hashable, Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}
