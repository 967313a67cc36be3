import Synchronization

/// The API keys in force, replaceable while the server runs (a catalog reload changes them; requests already
/// authorized keep going).
final class KeyRing: Sendable {
    private let keys: Mutex<APIKeys>

    init(_ keys: APIKeys) { self.keys = Mutex(keys) }

    var current: APIKeys { keys.withLock { $0 } }

    func replace(with keys: APIKeys) { self.keys.withLock { $0 = keys } }
}
