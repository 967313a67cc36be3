/// Where a model's weights are, as the engine tracks them.
public enum WeightState: Equatable, Sendable {
    /// In the memory the model computes from: the model may step.
    case resident
    /// Being copied out to pinned host memory; still holds its device memory until the copy ends.
    case evicting
    /// Parked in pinned host memory: holds no device memory; must be restored before it steps.
    case parked
    /// Being copied back; holds its device memory already.
    case restoring
}

/// What the residency policy sees of one model.
public struct ResidencyView: Equatable, Sendable {
    public var id: String
    /// Weight bytes the memory tiers can move (a file mapping is not counted: the OS pages it).
    public var bytes: UInt64
    public var state: WeightState
    /// The catalog says `always_resident`: never evicted.
    public var pinned: Bool
    /// Holds started sequences (KV pages or a plugin request): its weights cannot move until they end.
    public var busy: Bool
    /// Arrival of its oldest sequence not yet started, if any (lower came first).
    public var oldestWaiting: UInt64?
    /// Engine step after which the model last stepped (0: never); lower is colder.
    public var lastUsed: UInt64
    /// The last plan told it to drain (start nothing new) to make room for a waking model.
    public var draining: Bool

    public init(id: String, bytes: UInt64, state: WeightState = .resident, pinned: Bool = false, busy: Bool = false,
                oldestWaiting: UInt64? = nil, lastUsed: UInt64 = 0, draining: Bool = false) {
        self.id = id
        self.bytes = bytes
        self.state = state
        self.pinned = pinned
        self.busy = busy
        self.oldestWaiting = oldestWaiting
        self.lastUsed = lastUsed
        self.draining = draining
    }

    /// Whether the model's weights take device memory now (a move in flight holds both ends until it completes).
    var holdsMemory: Bool { state != .parked }
}

/// What to move, decided by `ResidencyPolicy.plan`: a plain value the engine carries out.
public struct ResidencyPlan: Equatable, Sendable {
    /// Models whose weights go to pinned host memory now (idle: nothing started).
    public var evict: [String] = []
    /// Models whose weights come back now (they have waiting sequences and fit).
    public var restore: [String] = []
    /// Models that start no new sequences until their running ones end and they can be evicted for a waking model.
    public var draining: [String] = []

    public init(evict: [String] = [], restore: [String] = [], draining: [String] = []) {
        self.evict = evict
        self.restore = restore
        self.draining = draining
    }

    public var isEmpty: Bool { evict.isEmpty && restore.isEmpty && draining.isEmpty }
}

/// Which models' weights stay in device memory under a byte budget (Specs/scheduler.md, "Residency"). Lazy: weights
/// move only when a parked model has work and does not fit; hot models stay resident, so they never cold-start.
public enum ResidencyPolicy {
    /// Parked models with waiting sequences wake in the order their oldest sequence arrived; the first that cannot
    /// be made to fit stops the later ones (so a large model is not starved by small ones). To make room, resident
    /// models that are not pinned give way: those already draining first, then the others idle before busy and
    /// coldest (least recently stepped) first, only as many as needed. An idle victim is evicted at once; a busy one
    /// drains (starts nothing new; its running sequences finish, which bounds the wait) and is evicted once idle.
    /// Memory held by a move in flight counts as used until the move ends, and a set over the budget (a model just
    /// loaded) gives way the same way before anything wakes.
    public static func plan(_ models: [ResidencyView], budget: UInt64?) -> ResidencyPlan {
        guard let budget else { return ResidencyPlan() }
        var plan = ResidencyPlan()
        var used = models.filter(\.holdsMemory).reduce(UInt64(0)) { $0 + $1.bytes }
        if used > budget {
            makeRoom(for: 0, before: nil, used: used, budget: budget, among: models, into: &plan)
            return plan
        }
        let waking = models.filter { $0.state == .parked && $0.oldestWaiting != nil }
            .sorted { ($0.oldestWaiting!, $0.id) < ($1.oldestWaiting!, $1.id) }
        for model in waking {
            guard used + model.bytes <= budget else {
                // The wake waits until the evictions complete (their memory is held until then).
                makeRoom(for: model.bytes, before: model.oldestWaiting, used: used, budget: budget, among: models, into: &plan)
                break
            }
            used += model.bytes
            plan.restore.append(model.id)
        }
        return plan
    }

    /// Plans the victims that free room for `need` more bytes for a wake whose oldest sequence arrived at `arrival`,
    /// counting memory already on its way out; plans none when even all of them would not make it fit. A model
    /// with a sequence waiting since before `arrival` is no victim: it came first (and a model just restored for
    /// its waiting sequences is not evicted before it runs them).
    private static func makeRoom(for need: UInt64, before arrival: UInt64?, used: UInt64, budget: UInt64,
                                 among models: [ResidencyView], into plan: inout ResidencyPlan) {
        var freeing = models.filter { $0.state == .evicting }.reduce(UInt64(0)) { $0 + $1.bytes }
        let candidates = models.filter { model in
            model.state == .resident && !model.pinned && (arrival == nil || model.oldestWaiting.map { $0 > arrival! } ?? true)
        }.sorted { a, b in
            (a.draining ? 0 : 1, a.busy ? 1 : 0, a.lastUsed, a.id) < (b.draining ? 0 : 1, b.busy ? 1 : 0, b.lastUsed, b.id)
        }
        var victims: [ResidencyView] = []
        for candidate in candidates where used + need > budget + freeing {
            victims.append(candidate)
            freeing += candidate.bytes
        }
        guard used + need <= budget + freeing else { return }
        for victim in victims {
            if victim.busy { plan.draining.append(victim.id) } else { plan.evict.append(victim.id) }
        }
    }
}
