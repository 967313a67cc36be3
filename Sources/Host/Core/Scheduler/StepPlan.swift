/// One step of one model as the scheduler decided it: the only contract between the scheduler and the executor.
/// A plain value, so the policy is tested without any device.
public struct StepPlan: Equatable, Sendable {
    /// One sequence's part of the step.
    public struct Item: Equatable, Sendable {
        /// The sequence.
        public var sequence: UInt64
        /// First position fed; the tokens fed are the sequence's known tokens [start, start + count).
        public var start: Int
        /// Tokens fed; 0 polls a cancelled request so its plugin ends it with FINAL(CANCELLED).
        public var count: Int
        /// Whether the plugin samples a token after these (the last chunk of what the sequence knows).
        public var sample: Bool
        /// KV pages the sequence holds once the step is planned (covering start + count positions).
        public var pages: Int
        /// The sequence's KV saved by a preemption goes back into its first pages before the step.
        public var restore: Bool

        public init(sequence: UInt64, start: Int, count: Int, sample: Bool, pages: Int, restore: Bool = false) {
            self.sequence = sequence
            self.start = start
            self.count = count
            self.sample = sample
            self.pages = pages
            self.restore = restore
        }
    }

    /// The model the step runs.
    public var model: String
    public var items: [Item] = []
    /// Sequences that give their KV pages back before the step (memory pressure): they continue later, from KV the
    /// host saved when the plugin allows pages to move (ABI 1.2), else by recomputing from position 0.
    public var preempted: [UInt64] = []
    /// Sequences cancelled before they reached the plugin: they end without a step.
    public var dropped: [UInt64] = []
    /// Sequences whose deadline passed before they started: they end (deadline exceeded) without a step.
    public var expired: [UInt64] = []

    public init(model: String) { self.model = model }

    /// Whether the plan ends sequences or gives pages back without a step.
    public var endsOrPreempts: Bool { !dropped.isEmpty || !expired.isEmpty || !preempted.isEmpty }

    /// Whether the plan runs a plugin step (a plan may only drop or preempt).
    public var runsStep: Bool { !items.isEmpty }
    /// Tokens fed in the step.
    public var tokenCount: Int { items.reduce(0) { $0 + $1.count } }
}
