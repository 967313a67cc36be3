import Synchronization

/// Merges several producers into one consumer without buffering: `send` returns only once the consumer has
/// taken the item, so each producer is at most one item ahead and a slow consumer (a client that does not
/// read) slows every producer down. `close` releases producers when the consumer stops early.
final class EventFunnel<Element: Sendable>: Sendable {
    private struct State {
        var offered: [(Element, CheckedContinuation<Bool, Never>)] = []
        var consumer: CheckedContinuation<Element?, Never>?
        var openProducers: Int
        var closed = false
    }

    private let state: Mutex<State>

    /// A funnel that ends once `producers` producers have called `producerFinished`.
    init(producers: Int) {
        state = Mutex(State(openProducers: producers))
    }

    /// Hands `element` to the consumer; true once taken, false when the funnel is closed.
    func send(_ element: Element) async -> Bool {
        await withCheckedContinuation { (producer: CheckedContinuation<Bool, Never>) in
            let consumer = state.withLock { state -> CheckedContinuation<Element?, Never>?? in
                if state.closed { return .some(nil) }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return .some(consumer)
                }
                state.offered.append((element, producer))
                return .none
            }
            switch consumer {
            case .none: break  // waits in `offered`
            case .some(nil): producer.resume(returning: false)
            case .some(let consumer?):
                consumer.resume(returning: element)
                producer.resume(returning: true)
            }
        }
    }

    /// One counted producer has no more items.
    func producerFinished() {
        let consumer = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            state.openProducers -= 1
            guard state.openProducers <= 0, state.offered.isEmpty else { return nil }
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume(returning: nil)
    }

    /// The next item, or nil when every counted producer has finished (or the funnel is closed).
    func next() async -> Element? {
        await withCheckedContinuation { (consumer: CheckedContinuation<Element?, Never>) in
            let taken = state.withLock { state -> (Element, CheckedContinuation<Bool, Never>)?? in
                if !state.offered.isEmpty { return .some(state.offered.removeFirst()) }
                if state.closed || state.openProducers <= 0 { return .some(nil) }
                state.consumer = consumer
                return .none
            }
            switch taken {
            case .none: break  // waits for a producer
            case .some(nil): consumer.resume(returning: nil)
            case .some(let (element, producer)?):
                producer.resume(returning: true)
                consumer.resume(returning: element)
            }
        }
    }

    /// Stops the funnel: waiting producers get false, a waiting consumer gets nil.
    func close() {
        let (offered, consumer) = state.withLock { state in
            state.closed = true
            defer {
                state.offered = []
                state.consumer = nil
            }
            return (state.offered, state.consumer)
        }
        for (_, producer) in offered { producer.resume(returning: false) }
        consumer?.resume(returning: nil)
    }
}
