import Testing
@testable import HostCore

/// The scheduling policy on plain values: table cases for each rule, and random states for the invariants of
/// Specs/scheduler.md (budgets kept, memory never over-committed, decode never starved by prefill).
struct SchedulerTests {
    static func model(_ sequences: [SequenceView], free: Int = 100, tokens: Int = 64, items: Int = 8, chunk: Int = 16,
                      virtualTime: Double = 0, id: String = "m") -> ModelView {
        ModelView(id: id, virtualTime: virtualTime, maxBatchTokens: tokens, maxBatchItems: items, slice: .fixed(chunk),
                  pageTokens: 16, freePages: free, sequences: sequences)
    }

    static func decoding(_ id: UInt64, at position: Int, priority: GenerationRequest.Priority = .interactive) -> SequenceView {
        SequenceView(id: id, priority: priority, arrival: id, known: position + 1, computed: position,
                     pages: (position + 15) / 16, hasRequest: true)
    }

    @Test func aNewSequencePrefillsItsWholePromptWhenAloneAndSamples() {
        let plan = Scheduler.plan(Self.model([SequenceView(id: 1, arrival: 1, known: 40)]))
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 0, count: 40, sample: true, pages: 3)])
    }

    @Test func aLongPromptIsChunkedByTheTokenBudgetAndSamplesOnlyAtItsEnd() {
        let plan = Scheduler.plan(Self.model([SequenceView(id: 1, arrival: 1, known: 100)], tokens: 64))
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 0, count: 64, sample: false, pages: 4)])
        let next = Scheduler.plan(Self.model([SequenceView(id: 1, arrival: 1, known: 100, computed: 64, pages: 4, hasRequest: true)]))
        #expect(next.items == [StepPlan.Item(sequence: 1, start: 64, count: 36, sample: true, pages: 7)])
    }

    @Test func decodesComeFirstAndPrefillIsSlicedWhileOthersDecode() {
        let plan = Scheduler.plan(Self.model([SequenceView(id: 1, arrival: 1, known: 100), Self.decoding(2, at: 20)], chunk: 16))
        #expect(plan.items.map(\.sequence) == [2, 1])
        #expect(plan.items[0] == StepPlan.Item(sequence: 2, start: 20, count: 1, sample: true, pages: 2))
        #expect(plan.items[1].count == 16)
    }

    @Test func prefillIsSlicedWhileAnotherModelDecodes() {
        var view = Self.model([SequenceView(id: 1, arrival: 1, known: 100)], chunk: 16)
        #expect(Scheduler.plan(view).items[0].count == 64)
        view.othersInteractive = true
        #expect(Scheduler.plan(view).items[0].count == 16)
    }

    @Test func aBatchPrefillTakesAtMostFourSlices() {
        let view = Self.model([SequenceView(id: 1, priority: .batch, arrival: 1, known: 500)], tokens: 512, chunk: 16)
        #expect(Scheduler.plan(view).items[0].count == 64)
    }

    /// A slice fits its time at the chunk's position: with attention's cost growing along the context, a chunk deep
    /// in a long prompt is shorter than one at its start, and each costs the slice's time.
    @Test func aSliceFitsItsTimeAtTheChunksPosition() {
        let cost = PrefillCost(perToken: 100e-6, perPosition: 50e-9)   // 100 us a token, +50 us per 1000 positions
        let slice = PrefillSlice(seconds: 0.010, cost: cost)
        let early = slice.tokens(from: 0), late = slice.tokens(from: 1600)
        #expect(early > late && late >= PrefillSlice.minimumTokens)
        for (start, count) in [(0, early), (1600, late)] {
            #expect(cost.seconds(from: start, count: count) <= 0.010 && cost.seconds(from: start, count: count + 1) > 0.010)
        }
        #expect(slice.tokens(from: 0, slices: 4) > 3 * early)
        #expect(PrefillSlice(seconds: 0.010, cost: nil).tokens(from: 500) == 16)   // unmeasured: the smallest measured step
        #expect(PrefillSlice(seconds: 10, cost: cost).tokens(from: 0) == 512)
        // A step's own cost comes first: what is left of the slice sizes the chunk, and a slice shorter than the
        // step feeds the fewest tokens.
        let stepped = PrefillCost(perStep: 0.006, perToken: 100e-6, perPosition: 50e-9)
        let n = PrefillSlice(seconds: 0.010, cost: stepped).tokens(from: 800)
        #expect(stepped.seconds(from: 800, count: n) <= 0.010 && stepped.seconds(from: 800, count: n + 1) > 0.010 && n < late)
        #expect(PrefillSlice(seconds: 0.005, cost: stepped).tokens(from: 0) == PrefillSlice.minimumTokens)
        // A short prompt goes whole: its own step cost would be paid again for every cut.
        #expect(PrefillSlice(seconds: 0.005, cost: stepped).tokens(from: 0, pending: 14) == 14)
        #expect(PrefillSlice(seconds: 0.005, cost: stepped).tokens(from: 0, pending: 40) == PrefillSlice.minimumTokens)
        let view = Self.model([SequenceView(id: 1, arrival: 1, known: 2000, computed: 1600, pages: 100, hasRequest: true),
                               Self.decoding(2, at: 20)], free: 200, tokens: 512)
        var sliced = view
        sliced.slice = slice
        #expect(Scheduler.plan(sliced).items.last?.count == late)
    }

    /// The cost is learned from steps as a line in the position: steps along a long prompt give back the line they
    /// were timed with; steps all at one position give a flat average; short (decode) steps teach nothing.
    @Test func thePrefillCostIsLearnedAlongThePrompt() {
        let truth = PrefillCost(perStep: 0.014, perToken: 80e-6, perPosition: 40e-9)
        var fit = PrefillCostFit()
        #expect(fit.estimate == nil)
        fit.add(seconds: 0.014, tokens: 1, meanPosition: 30, decodeOnly: true)
        fit.add(seconds: 0.020, tokens: 4, meanPosition: 30)   // too short to teach the line
        #expect(fit.estimate == nil)
        for start in stride(from: 0, to: 1800, by: 100) {
            fit.add(seconds: truth.seconds(from: start, count: 100), tokens: 100, meanPosition: Double(start) + 50)
        }
        let learned = try! #require(fit.estimate)
        #expect(abs(learned.perStep - truth.perStep) < 1e-12, "\(learned)")
        #expect(abs(learned.perToken - truth.perToken) < 1e-9 && abs(learned.perPosition - truth.perPosition) < 1e-12, "\(learned)")
        var flat = PrefillCostFit()
        for seconds in [0.010, 0.012] { flat.add(seconds: seconds, tokens: 100, meanPosition: 500) }
        #expect(flat.estimate.map { $0.perPosition == 0 && abs($0.perToken - 0.0001111) < 1e-6 } == true, "\(String(describing: flat.estimate))")
    }

    @Test func aDecodeCrossingAPageBoundaryTakesOnePage() {
        let plan = Scheduler.plan(Self.model([Self.decoding(1, at: 32)], free: 1))
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 32, count: 1, sample: true, pages: 3)])
    }

    @Test func underMemoryPressureTheLeastUrgentRunningSequenceIsPreempted() {
        let urgent = Self.decoding(1, at: 32)
        let later = Self.decoding(2, at: 20, priority: .batch)
        let plan = Scheduler.plan(Self.model([later, urgent], free: 0))
        #expect(plan.preempted == [2])
        #expect(plan.items.map(\.sequence) == [1])
    }

    /// A preempted sequence whose KV was saved comes back where it stopped: its saved pages are restored into the
    /// new ones before the step, and it feeds its next token (a recomputed one would start again at position 0).
    @Test func aSequenceWithSavedKVContinuesWhereItStopped() {
        let saved = SequenceView(id: 1, arrival: 1, known: 41, computed: 40, hasRequest: true, saved: 3)
        let plan = Scheduler.plan(Self.model([saved], free: 5))
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 40, count: 1, sample: true, pages: 3, restore: true)])
        let recomputed = SequenceView(id: 1, arrival: 1, known: 41, computed: 0, hasRequest: true)
        #expect(Scheduler.plan(Self.model([recomputed], free: 5)).items == [StepPlan.Item(sequence: 1, start: 0, count: 41, sample: true, pages: 3)])
        #expect(Scheduler.plan(Self.model([saved], free: 2)).items.isEmpty, "it waits until its pages fit")
    }

    /// A running prefill with no room for its next chunk takes pages from a less urgent sequence, as a decode does.
    /// The state a benchmark hung in: the older sequence part-way through its (recomputed) prompt, the newer one
    /// decoding at a page boundary, no page free: each waited for the other's pages and the engine went idle.
    @Test func aRunningPrefillPreemptsALessUrgentSequenceForPages() {
        let prefilling = SequenceView(id: 1, arrival: 1, known: 537, computed: 512, pages: 32, hasRequest: true)
        let decoding = SequenceView(id: 2, arrival: 2, known: 529, computed: 528, pages: 33, hasRequest: true)
        let plan = Scheduler.plan(Self.model([prefilling, decoding], free: 0, tokens: 512))
        #expect(plan.preempted == [2])
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 512, count: 25, sample: true, pages: 34)])
    }

    @Test func admissionWaitsForPagesAndKeepsArrivalOrder() {
        let big = SequenceView(id: 1, arrival: 1, known: 200)
        let small = SequenceView(id: 2, arrival: 2, known: 10)
        let plan = Scheduler.plan(Self.model([big, small], free: 5))
        #expect(plan.items.isEmpty, "the small one must not overtake the big one that does not fit")
    }

    @Test func aDrainingModelKeepsDecodingButAdmitsNothingNew() {
        var view = Self.model([Self.decoding(1, at: 20), SequenceView(id: 2, arrival: 2, known: 10)])
        #expect(Scheduler.plan(view).items.map(\.sequence) == [1, 2])
        view.admits = false
        #expect(Scheduler.plan(view).items.map(\.sequence) == [1])
    }

    /// A model waking from idle joins at the busy models' least virtual time, or when none is busy at the floor the
    /// last busy ones reached: a model that was idle while another worked gets no credit for it (it would otherwise
    /// own the device until it caught up).
    @Test func idleTimeEarnsNoCredit() {
        #expect(Scheduler.joiningTime(1, busy: [5, 3], floor: 2) == 3)
        #expect(Scheduler.joiningTime(1, busy: [], floor: 4) == 4)
        #expect(Scheduler.joiningTime(7, busy: [5], floor: 4) == 7)
    }

    /// Within a priority class, the API key that used less device time goes first: here only two new sequences
    /// fit; the light key's later arrival is admitted before the heavy key's second one.
    @Test func theKeyThatUsedLessIsAdmittedFirstWithinAClass() {
        let heavy = 9.0, light = 1.0
        let sequences = [SequenceView(id: 1, arrival: 1, known: 20, keyTime: heavy), SequenceView(id: 2, arrival: 2, known: 20, keyTime: heavy),
                         SequenceView(id: 3, arrival: 3, known: 20, keyTime: light),
                         SequenceView(id: 4, priority: .batch, arrival: 0, known: 20, keyTime: 0)]
        let plan = Scheduler.plan(Self.model(sequences, items: 2))
        #expect(plan.items.map(\.sequence) == [3, 1])
        // The class still comes first: a batch sequence of an idle key waits behind interactive ones.
        #expect(Scheduler.plan(Self.model(sequences, items: 4)).items.map(\.sequence) == [3, 1, 2, 4])
    }

    @Test func keyTimesChargeActiveKeysAndAJoiningKeyGetsNoCreditForIdleTime() {
        var times = KeyTimes()
        times.arrive("a")
        times.charge("a", seconds: 5)
        times.arrive("b")  // joins at a's 5, not 0
        #expect(times["b"] == 5 && times["a"] == 5)
        times.charge("b", seconds: 1)
        times.leave("a")
        times.leave("b")
        times.arrive("a")  // nobody active: joins at the floor the active keys last reached (5), keeps its own 5
        #expect(times["a"] == 5)
        times.arrive(nil)
        #expect(times[nil] == 5)
    }

    /// A sequence that has not started and whose deadline passed ends without a step; a started one never expires;
    /// within a key, the earlier deadline is admitted first.
    @Test func deadlinesExpireWaitingSequencesAndOrderAKeysOwnRequests() {
        var view = Self.model([SequenceView(id: 1, arrival: 1, known: 20, startBy: 5),
                               SequenceView(id: 2, arrival: 2, known: 20, computed: 10, pages: 1, hasRequest: true, startBy: 5),
                               SequenceView(id: 3, arrival: 3, known: 20, startBy: 50),
                               SequenceView(id: 4, arrival: 4, known: 20, startBy: 20)], items: 3)
        view.now = 10
        let plan = Scheduler.plan(view)
        #expect(plan.expired == [1])
        #expect(plan.items.map(\.sequence) == [2, 4, 3])
        view.now = 1
        #expect(Scheduler.plan(view).expired.isEmpty)
    }

    @Test func cancelledSequencesArePolledOrDropped() {
        var started = Self.decoding(1, at: 5)
        started.isCancelled = true
        let queued = SequenceView(id: 2, arrival: 2, known: 10, isCancelled: true)
        let plan = Scheduler.plan(Self.model([started, queued]))
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 5, count: 0, sample: false, pages: 1)])
        #expect(plan.dropped == [2])
    }

    @Test func theLeastVirtualTimeGoesFirstThenInteractiveWork() {
        let batch = Self.model([SequenceView(id: 1, priority: .batch, arrival: 1, known: 5)], virtualTime: 1, id: "a")
        let hot = Self.model([SequenceView(id: 2, arrival: 2, known: 5)], virtualTime: 9, id: "b")
        let cold = Self.model([SequenceView(id: 3, arrival: 3, known: 5)], virtualTime: 1, id: "c")
        let idle = Self.model([], virtualTime: 0, id: "d")
        #expect(Scheduler.pickModel([batch, hot, cold, idle]) == 2, "equal virtual time: interactive first")
        #expect(Scheduler.pickModel([batch, hot]) == 0)
        #expect(Scheduler.pickModel([idle]) == nil)
    }

    /// An interactive model and a batch model that both always have work: simulated steps of equal length give
    /// the batch model about `batchShare` of the steps, never none.
    @Test func batchWorkGetsItsShareBesideInteractiveWorkAndNeverStarves() {
        var models = [Self.model([SequenceView(id: 1, arrival: 1, known: 5)], id: "chat"),
                      Self.model([SequenceView(id: 2, priority: .batch, arrival: 2, known: 5)], id: "job")]
        var steps = [0, 0]
        for _ in 0..<1100 {
            let index = Scheduler.pickModel(models)!
            steps[index] += 1
            models[index].virtualTime += Scheduler.charge(seconds: 0.01, weight: 1, interactive: index == 0)
        }
        let expected = 1100 * Scheduler.batchShare / (1 + Scheduler.batchShare)  // 52 at 1/20
        #expect(abs(Double(steps[1]) - expected) <= 5, "batch steps: \(steps[1]) of 1100, expected about \(expected)")
    }

    /// Random states: every plan keeps the budgets, never plans more pages than are free (after preemptions),
    /// plans every decoding sequence that has room, and feeds each sequence only tokens it knows.
    @Test func invariantsHoldOnRandomStates() {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<2000 {
            let count = Int(rng.next() % 12)
            var sequences: [SequenceView] = []
            for id in 0..<count {
                let known = 1 + Int(rng.next() % 300)
                let started = rng.next() % 2 == 0
                let computed = started ? Int(rng.next() % UInt64(known)) : 0
                sequences.append(SequenceView(id: UInt64(id), priority: rng.next() % 3 == 0 ? .batch : .interactive,
                                              arrival: UInt64(id), known: known, computed: computed,
                                              pages: started ? (computed + 15) / 16 + Int(rng.next() % 2) : 0,
                                              hasRequest: started, isCancelled: rng.next() % 10 == 0,
                                              keyTime: Double(rng.next() % 4)))
            }
            let view = Self.model(sequences, free: Int(rng.next() % 40), tokens: 1 + Int(rng.next() % 128),
                                  items: 1 + Int(rng.next() % 8), chunk: 1 + Int(rng.next() % 32))
            check(Scheduler.plan(view), view)
        }
    }

    func check(_ plan: StepPlan, _ view: ModelView) {
        let byID = Dictionary(uniqueKeysWithValues: view.sequences.map { ($0.id, $0) })
        #expect(plan.tokenCount <= view.maxBatchTokens)
        #expect(plan.items.count <= view.maxBatchItems)
        #expect(Set(plan.items.map(\.sequence)).count == plan.items.count, "a sequence twice in one step")
        var free = view.freePages + plan.preempted.reduce(0) { $0 + byID[$1]!.pages }
        for item in plan.items {
            let sequence = byID[item.sequence]!
            let held = plan.preempted.contains(item.sequence) ? 0 : sequence.pages
            free -= item.pages - held
            #expect(item.start + item.count <= sequence.known)
            #expect(item.pages * view.pageTokens >= item.start + item.count)
            #expect(item.sample == (item.count > 0 && item.start + item.count == sequence.known))
            #expect(sequence.isCancelled == (item.count == 0))
            #expect(!plan.preempted.contains(item.sequence))
        }
        #expect(free >= 0, "plan over-commits KV pages")
        // Progress: while sequences hold pages and the arena could hold the largest of them, the step does something
        // (two running sequences must never each wait for the other's pages: a benchmark found that deadlock).
        let holders = view.sequences.filter { $0.pages > 0 && !$0.isCancelled }
        let arena = view.freePages + holders.reduce(0) { $0 + $1.pages }
        if let largest = holders.map(\.known).max(), view.pagesFor(tokens: largest + 1) <= arena {
            #expect(plan.runsStep || !plan.preempted.isEmpty, "no progress: \(view.sequences)")
        }
        for dropped in plan.dropped { #expect(byID[dropped]!.isCancelled && !byID[dropped]!.hasRequest) }
    }
}
