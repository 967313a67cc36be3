import NIOCore
import Synchronization

/// The open connections and whether each is serving a request, for graceful shutdown: when draining, idle
/// connections close at once and busy ones close after their current response.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var busy = false
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
        var draining = false
    }

    private let state = Mutex(State())

    /// Adds a connection; nil when the server is draining (the caller closes it).
    func register(_ channel: any Channel) -> Int? {
        state.withLock { state in
            guard !state.draining else { return nil }
            defer { state.nextID += 1 }
            state.entries[state.nextID] = Entry(channel: channel)
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Marks a connection busy; false when draining (the request is not served, the connection closes).
    func beginRequest(_ id: Int) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.entries[id]?.busy = true
            return true
        }
    }

    /// Marks a connection idle; false when draining (the connection closes instead of waiting for another).
    func endRequest(_ id: Int) -> Bool {
        state.withLock { state in
            state.entries[id]?.busy = false
            return !state.draining
        }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Starts draining and closes the idle connections.
    func drain() {
        let idle = state.withLock { state -> [any Channel] in
            state.draining = true
            return state.entries.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }

    /// Closes every connection (the grace period is over); their generations are cancelled.
    func closeAll() {
        let all = state.withLock { state -> [any Channel] in
            state.draining = true
            return state.entries.values.map(\.channel)
        }
        for channel in all { channel.close(promise: nil) }
    }
}
