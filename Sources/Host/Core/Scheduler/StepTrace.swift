import Synchronization

/// A record of every step the engine ran (model, start and end on the monotonic clock, tokens fed, items), for
/// benchmarks of the scheduler: switch cost between models, and how long one model's work waited behind another's.
public final class StepTrace: Sendable {
    public struct Step: Sendable {
        public var model: String
        public var start: Double
        public var end: Double
        public var tokens: Int
        /// Sequences in the step (a batch of decodes and prefills, or of same-shape denoise items).
        public var items = 0
    }

    private let steps = Mutex<[Step]>([])

    public init() {}

    func record(_ step: Step) { steps.withLock { $0.append(step) } }

    /// Every step so far, in order.
    public var all: [Step] { steps.withLock { $0 } }

    public func reset() { steps.withLock { $0.removeAll() } }

    /// Host time between the end of one step and the start of the next when the model changes: what switching
    /// between resident models costs (the decision, views, emitting the previous step's outputs).
    public var switchGaps: [Double] {
        let steps = all
        return zip(steps, steps.dropFirst()).filter { $0.0.model != $0.1.model }.map { $0.1.start - $0.0.end }
    }

    /// The same between two steps of the same model.
    public var sameModelGaps: [Double] {
        let steps = all
        return zip(steps, steps.dropFirst()).filter { $0.0.model == $0.1.model }.map { $0.1.start - $0.0.end }
    }
}
