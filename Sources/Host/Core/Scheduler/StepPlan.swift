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
        /// Denoise steps the item runs (image and video models; 0 for tokens).
        public var units: Int

        public init(sequence: UInt64, start: Int, count: Int, sample: Bool, pages: Int, restore: Bool = false, units: Int = 0) {
            self.sequence = sequence
            self.start = start
            self.count = count
            self.sample = sample
            self.pages = pages
            self.restore = restore
            self.units = units
        }

        /// A denoise item: `units` steps of the sequence's images.
        public static func denoise(_ sequence: UInt64, units: Int) -> Item {
            Item(sequence: sequence, start: 0, count: 0, sample: false, pages: 0, units: units)
        }

        /// The item only polls a cancelled request (it feeds nothing and runs no unit).
        public var polls: Bool { count == 0 && units == 0 }
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
