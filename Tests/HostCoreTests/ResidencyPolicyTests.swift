import Testing
@testable import HostCore

/// The residency policy on plain values: table cases for each rule, and a random simulation for the invariants of
/// Specs/scheduler.md (weights never over the budget, pinned and busy models never evicted, every wake happens).
struct ResidencyPolicyTests {
    typealias View = ResidencyView

    @Test func withoutABudgetNothingMoves() {
        let models = [View(id: "a", bytes: 100, state: .parked, oldestWaiting: 1)]
        #expect(ResidencyPolicy.plan(models, budget: nil).isEmpty)
    }

    @Test func aParkedModelWithWorkWakesWhenItFitsAndAnIdleOneStaysParked() {
        let models = [View(id: "a", bytes: 40, lastUsed: 5), View(id: "b", bytes: 40, state: .parked, oldestWaiting: 9),
                      View(id: "c", bytes: 40, state: .parked)]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(restore: ["b"]))
    }

    @Test func theColdestIdleModelGivesWayAndTheWakeWaitsForTheEviction() {
        let models = [View(id: "hot", bytes: 40, lastUsed: 9), View(id: "cold", bytes: 40, lastUsed: 2),
                      View(id: "new", bytes: 40, state: .parked, oldestWaiting: 10)]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["cold"]))
        // While the eviction is in flight its memory is still held: nothing more is evicted, nothing wakes.
        var moving = models
        moving[1].state = .evicting
        #expect(ResidencyPolicy.plan(moving, budget: 100).isEmpty)
        moving[1].state = .parked
        #expect(ResidencyPolicy.plan(moving, budget: 100) == ResidencyPlan(restore: ["new"]))
    }

    @Test func onlyAsManyVictimsAsNeededIdleBeforeBusyAndPinnedNever() {
        let models = [View(id: "pinned", bytes: 50, pinned: true, lastUsed: 0), View(id: "busy", bytes: 30, busy: true, lastUsed: 1),
                      View(id: "idle1", bytes: 10, lastUsed: 7), View(id: "idle2", bytes: 10, lastUsed: 3),
                      View(id: "new", bytes: 10, state: .parked, oldestWaiting: 4)]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["idle2"]))
        var bigger = models
        bigger[4].bytes = 45
        #expect(ResidencyPolicy.plan(bigger, budget: 100) == ResidencyPlan(evict: ["idle2", "idle1"], draining: ["busy"]))
        bigger[4].bytes = 51  // even every unpinned model would not make room: nothing moves, nothing drains
        #expect(ResidencyPolicy.plan(bigger, budget: 100).isEmpty)
    }

    @Test func aDrainingModelStaysTheVictimAndIsEvictedOnceIdle() {
        var models = [View(id: "a", bytes: 60, busy: true, lastUsed: 9, draining: true), View(id: "b", bytes: 30, lastUsed: 1),
                      View(id: "w", bytes: 60, state: .parked, oldestWaiting: 3)]
        // b is colder and idle, but a already drains for w: it stays the victim (no second model pays for one wake).
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(draining: ["a"]))
        models[0].busy = false
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["a"]))
    }

    @Test func wakesGoInArrivalOrderAndTheFirstThatDoesNotFitStopsTheRest() {
        let models = [View(id: "busy", bytes: 60, busy: true), View(id: "big", bytes: 50, state: .parked, oldestWaiting: 1),
                      View(id: "small", bytes: 10, state: .parked, oldestWaiting: 2)]
        // small would fit now, but big came first: small does not jump the queue; busy drains for big.
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(draining: ["busy"]))
        let both = [View(id: "x", bytes: 30, state: .parked, oldestWaiting: 5), View(id: "y", bytes: 30, state: .parked, oldestWaiting: 2)]
        #expect(ResidencyPolicy.plan(both, budget: 100) == ResidencyPlan(restore: ["y", "x"]))
    }

    @Test func aModelWhoseWorkCameFirstIsNoVictim() {
        let models = [View(id: "restored", bytes: 60, oldestWaiting: 2, lastUsed: 0), View(id: "later", bytes: 30, oldestWaiting: 8, lastUsed: 5),
                      View(id: "w", bytes: 30, state: .parked, oldestWaiting: 3)]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["later"]))
    }

    @Test func aSetOverTheBudgetGivesWayBeforeAnythingWakes() {
        let models = [View(id: "a", bytes: 60, lastUsed: 4), View(id: "b", bytes: 60, lastUsed: 2),
                      View(id: "w", bytes: 10, state: .parked, oldestWaiting: 1)]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["b"]))
    }

    /// A loading model's reservation waits in arrival order like a wake and makes room the same way; once granted
    /// it holds its bytes and is never a victim.
    @Test func aLoadWaitsLikeAWakeAndAGrantedOneIsNoVictim() {
        let load = WeightReservation(model: "new", bytes: 50, loadTotal: 50, arrival: 5)
        var models = [View(id: "cold", bytes: 60, lastUsed: 1), View(id: "w", bytes: 30, state: .parked, oldestWaiting: 3), load.view]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["cold"], restore: ["w"]))
        models[0].state = .parked
        models[1].state = .restoring
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(restore: [load.planID]))
        load.state = .granted
        models = [View(id: "a", bytes: 40, lastUsed: 1), View(id: "w", bytes: 30, state: .parked, oldestWaiting: 9), load.view]
        #expect(ResidencyPolicy.plan(models, budget: 100) == ResidencyPlan(evict: ["a"]))
    }

    /// A random world: requests arrive at random models, resident models start them, busy ones finish, moves
    /// complete at random, and four models load along the way (a reservation that waits, is granted, and is then
    /// replaced by the loaded model). After every plan: weights in memory (reservations included) within the
    /// budget, pinned and busy models never evicted, pinned ones never drained; once arrivals stop, every waiting
    /// request and load is served (no livelock).
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func invariantsHoldInARandomWorld(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let budget: UInt64 = 100
        var models = (0..<6).map { index in
            View(id: "m\(index)", bytes: UInt64.random(in: 5...60, using: &random), state: .parked, pinned: index == 0)
        }
        models[0].bytes = 30
        models[0].state = .resident
        var waiting = Array(repeating: [UInt64](), count: models.count)
        var arrival: UInt64 = 0
        var tick = 0
        var loads: [(WeightReservation, index: Int)] = []
        while tick < 2000 || (tick < 50_000 && (waiting.contains { !$0.isEmpty } || !loads.isEmpty)) {
            tick += 1
            if tick < 2000, tick % 500 == 100 {
                arrival += 1
                let bytes = UInt64.random(in: 5...60, using: &random)
                let load = WeightReservation(model: "load\(tick)", bytes: bytes, loadTotal: bytes, arrival: arrival)
                loads.append((load, models.count))
                models.append(load.view)
                waiting.append([])
            }
            for (load, index) in loads where load.state == .granted && Int.random(in: 0..<4, using: &random) == 0 {
                // The engine takes the loaded model in place of its reservation.
                models[index] = View(id: load.model, bytes: load.bytes, lastUsed: UInt64(tick))
                loads.removeAll { $0.0 === load }
            }
            if tick < 2000, Int.random(in: 0..<3, using: &random) == 0 {
                let index = Int.random(in: 0..<models.count, using: &random)
                arrival += 1
                waiting[index].append(arrival)
            }
            for index in models.indices { models[index].oldestWaiting = waiting[index].first }
            let plan = ResidencyPolicy.plan(models, budget: budget)
            for index in models.indices {
                let model = models[index]
                #expect(!(plan.evict.contains(model.id) && (model.pinned || model.busy || model.state != .resident)))
                #expect(!(plan.draining.contains(model.id) && model.pinned))
                #expect(!(plan.restore.contains(model.id) && model.state != .parked))
                models[index].draining = plan.draining.contains(model.id)
                if plan.evict.contains(model.id) { models[index].state = .evicting }
                if plan.restore.contains(model.id) { models[index].state = .restoring }
            }
            for (load, index) in loads where plan.restore.contains(load.planID) {
                load.state = .granted
                models[index] = load.view
            }
            let held = models.filter(\.holdsMemory).reduce(UInt64(0)) { $0 + $1.bytes }
            #expect(held <= budget, "tick \(tick): \(held) bytes held")
            for index in models.indices {
                switch models[index].state {
                case .evicting where Bool.random(using: &random): models[index].state = .parked
                case .restoring where Bool.random(using: &random):
                    models[index].state = .resident
                    models[index].lastUsed = UInt64(tick)
                case .resident:
                    if models[index].busy && Int.random(in: 0..<4, using: &random) == 0 { models[index].busy = false }
                    if !models[index].draining && !waiting[index].isEmpty {
                        waiting[index].removeFirst()
                        models[index].busy = true
                        models[index].lastUsed = UInt64(tick)
                    }
                default: break
                }
            }
        }
        let left = waiting.map { $0.count }
        #expect(left.allSatisfy { $0 == 0 } && loads.isEmpty, "left waiting: \(left), loads \(loads.count) in \(models)")
        #expect(models.count == 10)
    }
}
