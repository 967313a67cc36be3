import PluginABI

/// Room in the weight budget held for a model while it loads (Specs/scheduler.md, "Making room before a load"). The
/// residency policy sees a waiting reservation as one more parked model with a waiting sequence, so it is granted in
/// arrival order and evicts or drains victims exactly as a wake does; a granted one is pinned (never a victim) and
/// counts against the budget until the engine takes the loaded model in its place, or the load gives it back.
final class WeightReservation: @unchecked Sendable {
    enum State: Equatable {
        case waiting
        case granted
        case refused(String)
    }

    let model: String
    /// The allocation this reservation makes room for.
    let bytes: UInt64
    /// Bytes the model's load has asked for so far, this one included.
    let loadTotal: UInt64
    /// On the same clock as the sequences' arrivals: a load waits behind wakes that were asked for earlier.
    let arrival: UInt64
    // SAFETY: written under the engine's lock (by the engine thread), read under it by the loading thread.
    var state = State.waiting

    init(model: String, bytes: UInt64, loadTotal: UInt64, arrival: UInt64) {
        self.model = model
        self.bytes = bytes
        self.loadTotal = loadTotal
        self.arrival = arrival
    }

    /// Its id in the residency plan: never a model id (model ids have no spaces).
    var planID: String { "\(model) (loading #\(arrival))" }

    /// What the residency policy sees: a waiting load is a parked model with work; a granted one holds its bytes and
    /// is pinned.
    var view: ResidencyView {
        let granted = state == .granted
        return ResidencyView(id: planID, bytes: bytes, state: granted ? .resident : .parked, pinned: true, busy: granted,
                             oldestWaiting: granted ? nil : arrival, lastUsed: UInt64.max)
    }
}

/// Asks the engine for room before each weight allocation of one loading model (the scope's `admitWeights`), and
/// hands what it was granted back when the load ends. Loads take turns (`LoadTurn`): the one holding grants finishes
/// before another is granted anything, so two loads can never each hold part of the budget while waiting for the
/// other's part.
final class WeightAdmission: @unchecked Sendable {
    private let model: String
    private let budget: UInt64
    private let engine: Engine
    private let turn: LoadTurn
    private let arrival: @Sendable () -> UInt64
    // SAFETY: the fields below are touched only under `lock`, except that `admit` waits for the engine outside it.
    private let lock = ConditionLock()
    private var reservations: [WeightReservation] = []
    private var total: UInt64 = 0
    private var holdsTurn = false
    private var ended = false

    init(model: String, budget: UInt64, engine: Engine, turn: LoadTurn, arrival: @escaping @Sendable () -> UInt64) {
        self.model = model
        self.budget = budget
        self.engine = engine
        self.turn = turn
        self.arrival = arrival
    }

    /// Blocks until the engine has made room for `bytes` more of the model's weights; throws when it never can (the
    /// model's weights would exceed the budget, or the pinned models leave too little) or the engine stopped.
    func admit(bytes: UInt64, label: String) throws(ServiceFailure) {
        let asked = lock.locked { () -> (UInt64, Bool)? in
            guard !ended else { return nil }
            total += bytes
            return (total, holdsTurn)
        }
        // After the load ended (a plugin allocating weights later) the policy's over-budget rule applies instead.
        guard let (loadTotal, hadTurn) = asked else { return }
        guard loadTotal <= budget else {
            throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "model '\(model)' has \(FixedPoint.mebibytes(loadTotal)) of weights (with '\(label)'); the weight budget is \(FixedPoint.mebibytes(budget))")
        }
        if !hadTurn {
            turn.acquire()
            lock.locked { holdsTurn = true }
        }
        let reservation = WeightReservation(model: model, bytes: bytes, loadTotal: loadTotal, arrival: arrival())
        lock.locked { reservations.append(reservation) }
        if case .refused(let reason) = engine.reserve(reservation) {
            throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, reason)
        }
    }

    /// The load ended: the engine takes `model` in place of the grants (in one step, so the budget is never counted
    /// twice or left open), or, when the load failed, the grants are given back. Then the next load may go.
    func end(adding model: ServingModel?) {
        let (held, hadTurn) = lock.locked { () -> ([WeightReservation], Bool) in
            defer { ended = true; reservations = []; holdsTurn = false }
            return (reservations, holdsTurn)
        }
        if let model { engine.add(model, releasing: held) } else { engine.release(held) }
        if hadTurn { turn.release() }
    }
}

/// One load at a time holds weight reservations (a binary semaphore held across calls on the loading thread).
final class LoadTurn: @unchecked Sendable {
    private let lock = ConditionLock()
    // SAFETY: under `lock`.
    private var taken = false

    /// Waits until no other load holds the turn, and takes it (the check and the take are one step under the lock).
    func acquire() {
        lock.wait(until: {
            guard !taken else { return false }
            taken = true
            return true
        })
    }

    func release() { lock.broadcast { taken = false } }
}
