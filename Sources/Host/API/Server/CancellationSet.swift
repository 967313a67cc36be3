import HostCore
import Synchronization

/// The generations of the request a connection is serving, so that a client that goes away (the channel
/// closes, or a write fails) cancels all of them at once. Handles registered after that are cancelled at once.
final class CancellationSet: Sendable {
    private struct State {
        var handles: [GenerationHandle] = []
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Tracks a handle; cancels it right away when the client is already gone.
    func register(_ handle: GenerationHandle) {
        let cancelNow = state.withLock { state -> Bool in
            if !state.cancelled { state.handles.append(handle) }
            return state.cancelled
        }
        if cancelNow { handle.cancel() }
    }

    /// Cancels every tracked handle and every later one.
    func cancelAll() {
        let handles = state.withLock { state -> [GenerationHandle] in
            state.cancelled = true
            defer { state.handles = [] }
            return state.handles
        }
        for handle in handles { handle.cancel() }
    }

    /// Whether the client has gone.
    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Forgets the handles of a finished request (the connection serves the next one).
    func requestFinished() {
        state.withLock { $0.handles = [] }
    }
}
