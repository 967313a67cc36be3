import PluginABI

/// The engine's side of the weight budget (Specs/scheduler.md, "Residency"): the loads that wait for room, the
/// residency policy's plan before every step, and the weight moves it starts on the copy lanes.
extension Engine {
    /// Blocks until the residency policy has made room for the reservation's bytes (granted) or found that it never
    /// can (refused, with the reason). Without a weight budget every reservation is granted at once.
    func reserve(_ reservation: WeightReservation) -> WeightReservation.State {
        guard residency != nil else { return .granted }
        lock.broadcast {
            if stopping { reservation.state = .refused("the host is shutting down") } else { reservations.append(reservation) }
            wakeups += 1
        }
        lock.wait(until: { reservation.state != .waiting })
        return lock.locked { reservation.state }
    }

    /// Gives reservations back (a load that failed).
    func release(_ given: [WeightReservation]) {
        lock.broadcast {
            reservations.removeAll { held in given.contains { $0 === held } }
            wakeups += 1
        }
    }

    /// Refuses the loads still waiting for room (the engine is stopping).
    func refuseWaitingReservations() {
        lock.broadcast {
            for reservation in reservations where reservation.state == .waiting {
                reservation.state = .refused("the host is shutting down")
            }
        }
    }

    /// Starts the weight moves the residency policy plans; marks the models it drains; grants the loads it makes
    /// room for, and refuses those that can never fit beside the pinned models.
    func planResidency() {
        guard let residency else { return }
        let pending = lock.locked { reservations }
        let pinned = models.filter(\.pinned).reduce(UInt64(0)) { $0 + $1.movableWeightBytes }
        let refused = pending.filter { $0.state == .waiting && $0.loadTotal + pinned > residency.budget }
        let live = pending.filter { r in r.state == .granted || (r.state == .waiting && !refused.contains { $0 === r }) }
        let views = models.map { $0.residencyView() } + live.map(\.view)
        let plan = ResidencyPolicy.plan(views, budget: residency.budget)
        metrics.recordWeights(held: views.filter(\.holdsMemory).reduce(UInt64(0)) { $0 + $1.bytes }, budget: residency.budget)
        let granted = pending.filter { $0.state == .waiting && plan.restore.contains($0.planID) }
        if !granted.isEmpty || !refused.isEmpty {
            lock.broadcast {
                granted.forEach { $0.state = .granted }
                for reservation in refused {
                    reservation.state = .refused("model '\(reservation.model)' needs \(FixedPoint.mebibytes(reservation.loadTotal)) of weights, and the always-resident models hold \(FixedPoint.mebibytes(pinned)) of the \(FixedPoint.mebibytes(residency.budget)) weight budget")
                }
            }
        }
        for model in models {
            model.draining = plan.draining.contains(model.id)
            if plan.evict.contains(model.id) { startMove(model, to: .parked, over: residency.lanes) }
            if plan.restore.contains(model.id) { startMove(model, to: .resident, over: residency.lanes) }
        }
    }

    /// Moves the model's weights on a thread of its own (the copies run on the lanes); the engine keeps stepping
    /// the other models and hears of the end through `finishedMoves`.
    func startMove(_ model: ServingModel, to target: WeightState, over lanes: [DeviceStream]) {
        model.weights = target == .parked ? .evicting : .restoring
        model.move = HostThread { [self] in
            let result: Result<TransferReport, PluginError>
            do throws(PluginError) {
                result = .success(target == .parked ? try model.model.evictWeights(over: lanes)
                                                     : try model.model.beginRestoringWeights(over: lanes).finish())
            } catch {
                result = .failure(error)
            }
            lock.broadcast { finishedMoves.append((model, result)); wakeups += 1 }
        }
    }

    /// Applies the weight moves that ended: the model is resident or parked now. A restore that failed leaves it
    /// parked and fails its waiting sequences (retrying would fail the same way); a failed eviction leaves it resident.
    func completeMoves() {
        let finished = lock.locked { () -> [(ServingModel, Result<TransferReport, PluginError>)] in
            defer { finishedMoves.removeAll() }
            return finishedMoves
        }
        for (model, result) in finished {
            model.move?.join()
            model.move = nil
            let restoring = model.weights == .restoring
            switch result {
            case .success(let report):
                model.weights = restoring ? .resident : .parked
                if restoring { model.lastUsed = steps }
                metrics.update(model.id) { metrics in
                    metrics.weightsResident = restoring
                    if restoring {
                        metrics.weightRestores += 1
                        metrics.weightBytesRestored += report.bytes
                        metrics.weightRestoreSeconds += report.seconds
                    } else {
                        metrics.weightEvictions += 1
                    }
                }
            case .failure(let error):
                model.weights = restoring ? .parked : .resident
                guard restoring else { continue }
                let failure = ServiceError(.internalError, "model '\(model.id)' could not be brought back into memory: \(error.message)")
                for sequence in model.sequences where sequence.request == nil && sequence.pages.isEmpty {
                    end(sequence, on: model, with: .failed(failure), outcome: "error")
                }
            }
        }
    }
}
