import Testing
@testable import HostCore

/// The denoise half of the scheduling policy on plain values: same-shape batching, slicing of denoise steps,
/// cancellation, and on random states the invariants (one shape per step, budgets kept, units never past what is
/// left, progress, every sequence finishing).
struct DenoiseSchedulerTests {
    static let small = ImageShape(width: 8, height: 8), large = ImageShape(width: 16, height: 16)

    static func model(_ sequences: [SequenceView], items: Int = 8, units: Int = 5) -> ModelView {
        var view = ModelView(id: "image", maxBatchTokens: 0, maxBatchItems: items, pageTokens: 0, freePages: 0, sequences: sequences)
        view.denoise = .fixed(units)
        return view
    }

    static func image(_ id: UInt64, units: Int = 25, images: Int = 1, shape: ImageShape = small,
                      priority: GenerationRequest.Priority = .interactive) -> SequenceView {
        .denoise(id: id, priority: priority, arrival: id, units: units, images: images, shape: shape)
    }

    @Test func sequencesOfTheLeadingShapeRunAsOneBatch() {
        let plan = Scheduler.plan(Self.model([Self.image(1), Self.image(2, shape: Self.large), Self.image(3, images: 4)]))
        // Not waiting for anyone: 4 slices of 5 units.
        #expect(plan.items == [.denoise(1, units: 20), .denoise(3, units: 20)])
    }

    @Test func theMostUrgentSequenceSetsTheShape() {
        let plan = Scheduler.plan(Self.model([Self.image(1, priority: .batch), Self.image(2, shape: Self.large)]))
        #expect(plan.items == [.denoise(2, units: 20)])
    }

    @Test func unitsAreSlicedWhileAnotherModelWaitsAndNeverPassWhatIsLeft() {
        var view = Self.model([Self.image(1, units: 3), Self.image(2, units: 25)])
        view.othersInteractive = true
        #expect(Scheduler.plan(view).items == [.denoise(1, units: 3), .denoise(2, units: 5)])
    }

    @Test func theItemLimitCapsTheBatch() {
        let plan = Scheduler.plan(Self.model((1...5).map { Self.image($0) }, items: 3))
        #expect(plan.items.map(\.sequence) == [1, 2, 3])
    }

    @Test func cancelledSequencesArePolledOrDropped() {
        var started = Self.image(1)
        started.hasRequest = true
        started.isCancelled = true
        var waiting = Self.image(2)
        waiting.isCancelled = true
        let plan = Scheduler.plan(Self.model([started, waiting, Self.image(3)]))
        #expect(plan.dropped == [2])
        #expect(plan.items == [StepPlan.Item(sequence: 1, start: 0, count: 0, sample: false, pages: 0), .denoise(3, units: 20)])
        #expect(plan.items[0].polls && !plan.items[1].polls)
    }

    @Test func aSliceFitsItsTimeAtTheBatchsCost() {
        let cost = DenoiseCost(perUnit: 0.002, perImage: 0.001)
        let slice = DenoiseSlice(seconds: 0.018, cost: cost)
        #expect(slice.units(images: 1) == 6)        // 3 ms a unit
        #expect(slice.units(images: 8) == 1)        // 10 ms a unit
        #expect(slice.units(images: 8, slices: 4) == 7)
        #expect(slice.units(images: 40) == 1)       // a unit longer than the slice still runs
        #expect(DenoiseSlice(seconds: 0.018, cost: nil).units(images: 3) == 1)   // unmeasured: one unit, which measures it
    }

    @Test func theDenoiseCostIsLearnedFromStepsOfSeveralBatchSizes() {
        var fit = DenoiseCostFit()
        #expect(fit.estimate == nil)
        fit.add(seconds: 5 * 0.003, units: 5, imageUnits: 5)        // 1 image: 3 ms a unit
        #expect(abs(fit.estimate!.seconds(images: 1) - 0.003) < 1e-12)
        fit.add(seconds: 2 * 0.010, units: 2, imageUnits: 16)       // 8 images: 10 ms a unit
        let estimate = fit.estimate!
        #expect(abs(estimate.perUnit - 0.002) < 1e-9 && abs(estimate.perImage - 0.001) < 1e-9)
    }

    /// Random queues of image requests of three shapes and two classes, planned and run step by step (each planned
    /// unit done) until all finish: every step has one shape, keeps the item limit and never runs past what a
    /// sequence has left; every plan does something while work is left; everything finishes, in a bounded number of
    /// steps.
    @Test func invariantsHoldOnRandomQueues() {
        var random = SeededRandom(seed: 11)
        let shapes = [Self.small, Self.large, ImageShape(width: 16, height: 8)]
        for _ in 0..<300 {
            let count = Int(random.next() % 12) + 1
            var sequences = (0..<count).map { index in
                Self.image(UInt64(index + 1), units: Int(random.next() % 40) + 1, images: Int(random.next() % 4) + 1,
                           shape: shapes[Int(random.next() % 3)], priority: random.next() % 3 == 0 ? .batch : .interactive)
            }
            let items = Int(random.next() % 4) + 1, units = Int(random.next() % 6) + 1
            let total = sequences.reduce(0) { $0 + $1.units }
            var steps = 0
            while !sequences.isEmpty {
                var view = Self.model(sequences, items: items, units: units)
                view.othersInteractive = random.next() % 2 == 0
                let plan = Scheduler.plan(view)
                #expect(!plan.items.isEmpty, "no progress with \(sequences.count) sequences left")
                guard !plan.items.isEmpty else { break }
                #expect(plan.items.count <= items)
                let planned = plan.items.map { item in sequences.first { $0.id == item.sequence }! }
                #expect(Set(planned.map(\.shape)).count == 1)
                for (item, sequence) in zip(plan.items, planned) {
                    #expect(item.units >= 1 && item.units <= sequence.units && item.count == 0)
                    let index = sequences.firstIndex { $0.id == item.sequence }!
                    sequences[index].units -= item.units
                    sequences[index].hasRequest = true
                }
                sequences.removeAll { $0.units == 0 }
                steps += 1
                #expect(steps <= total)
                if steps > total { break }
            }
        }
    }
}
