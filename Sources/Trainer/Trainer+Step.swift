import Data
import Distributed
import Foundation
import Logging
import NN
import Optim

/// What one optimizer step leaves behind: global sums (all ranks agree) and the stop flag.
struct StepOutcome {
    var sums: MetricSums
    var stop: Int32
}

/// The global batches of one step (grad_accumulation of them, fewer at an epoch's end) and
/// where the data stream is after them.
struct StepPlan {
    var batches: [(ids: [Int], globalCount: Int)] = []
    var next: Cursor
    var globalCount: Int { batches.reduce(0) { $0 + $1.globalCount } }
}

extension Trainer {
    /// Loss terms per sample: 1 for cross-entropy, the positions of a sequence, the target width
    /// for elementwise losses.
    var lossTermsPerSample: Int { loss.terms(data.train) }

    /// The step's global batches from `start`: the trainer plans the data, `DataParallel` says
    /// which rows of each batch this rank computes.
    func plan(from start: Cursor) -> StepPlan {
        var plan = StepPlan(next: start)
        for _ in 0..<config.train.gradAccumulation {
            let s = stream.sampler.step(at: plan.next, order: stream.order(for: start.epoch))
            plan.batches.append((s.ids, s.globalCount))
            plan.next = s.next
            if s.next.epoch != start.epoch { break }
        }
        return plan
    }

    /// Forward and backward of every pass of this rank in the step, then the reduction (none in
    /// a replay, whose `finite` says whether this rank's own gradients are): this rank's sums,
    /// its loss per slot of the step agreement, and whether the gradients are finite.
    func runPasses(_ plan: StepPlan, epoch: Int, replay: Bool = false) throws
        -> (sums: MetricSums, slotLosses: [Double], finite: Bool)
    {
        guard let parallel else { preconditionFailure("a step before prepare") }
        let k = config.train.gradAccumulation
        let scale = 1 / Float(max(plan.globalCount * lossTermsPerSample, 1))
        var sums = MetricSums()
        var slotLosses = [Double](repeating: 0, count: parallel.lossSlots)
        let finite = try parallel.run(globalCounts: plan.batches.map(\.globalCount), scale: scale, replay: replay) {
            b, pass, final in
            let ids = Array(plan.batches[b].ids[pass.rows])
            let batch = stream.trainBatch(ids, epoch: epoch)
            if final && !replay { prefetch(after: plan.next) }  // the next step's batch, while this one computes
            let passSums = forwardBackward(batch, randomStep: step * k + b, slot: parallel.slot(of: pass, batch: b))
            slotLosses[parallel.lossSlot(of: pass)] += passSums.loss
            sums += passSums
        }
        return (sums, slotLosses, finite)
    }

    /// Forward and backward of one local batch; returns its local sums.
    func forwardBackward(_ batch: Batch, randomStep: Int, slot: Int) -> MetricSums {
        var sums = MetricSums()
        guard batch.count > 0 else { return sums }
        forwardSlots.append((slot, batch.count))
        model.setRandomContext(RandomContext(seed: config.seed, step: randomStep, sampleIDs: batch.ids))
        let out = model(batch.x)
        let summed = loss(out, batch)
        sums.loss = Double(summed.item) / Double(lossTermsPerSample)  // per-sample loss, as PyTorch's mean
        sums.correct = Evaluator.correct(out, batch)
        sums.count = Double(batch.count)
        summed.backward(seed: FaultInjection.hooks?.backwardSeed(step: step, rank: communicator.rank, loss: summed))
        return sums
    }

    /// Starts making the next step's batch in the background, where prefetching is on and this
    /// rank computes it in one pass.
    func prefetch(after next: Cursor) {
        guard config.data.prefetch && step + 1 < totalSteps, let parallel else { return }
        let s = stream.sampler.step(at: next, order: stream.order(for: next.epoch))
        let passes = parallel.passes(globalBatch: s.globalCount)
        guard passes.count == 1 else { return }
        stream.prefetch(ids: Array(s.ids[passes[0].rows]), epoch: next.epoch)
    }

    /// A step's passes in `train.precision`: one autocast scope, so a bf16 step casts each
    /// weight once.
    func inStepPrecision<R>(_ passes: () throws -> R) rethrows -> R {
        try Autocast.run(config.train.precision, caching: optimizer.parameters.map(\.tensor), passes)
    }

    /// One optimizer step: this rank's passes and the reduction (`DataParallel`), then one
    /// agreement on stop signals, non-finite values, checkpoint failures and metric sums, then
    /// the update.
    func trainStep() throws -> StepOutcome {
        guard let parallel else { preconditionFailure("trainStep before prepare") }
        FaultInjection.hooks?.stepStarting(step, resumed: resumed)
        optimizer.learningRate = schedule.learningRate(base: config.optimizer.lr, step: step)
        let start = cursor
        let plan = plan(from: start)
        forwardSlots.removeAll(keepingCapacity: true)
        // One autocast scope per step: in bf16 the weights are cast once, before the first pass.
        let (sums, slotLosses, finite) = try inStepPrecision { try runPasses(plan, epoch: start.epoch) }
        var mine = StepAgreement(slots: parallel.lossSlots)
        mine.slotLosses = slotLosses
        if let failure = syncBatchNorm?.takeFailure() { throw failure }
        cursor = plan.next
        let passSlots = parallel.passSlots(batches: config.train.gradAccumulation)
        if let runningStatistics {
            mine.extra = try runningStatistics.encode(slots: passSlots, forwardSlots: forwardSlots)
        }
        mine.stop = StopSignal.received != 0
        mine.nonFinite = !sums.loss.isFinite
        mine.checkpointFailed = keeper?.firstFailure != nil
        mine.correct = sums.correct
        mine.count = sums.count
        let agreed = StepAgreement(
            decoding: try communicator.at().allreduce(mine.encoded), slots: parallel.lossSlots)
        if agreed.checkpointFailed { throw checkpointFailure() }
        if agreed.nonFinite || !finite {
            try handleNonFinite(localBad: mine.nonFinite, plan: plan, epoch: start.epoch)
            runningStatistics?.discardPending()  // the replay's; the skipped step moves nothing
        } else {
            runningStatistics?.apply(agreed.extra, slots: passSlots)
            if let clip = config.optimizer.clipGradNorm {
                clipGradientNorm(optimizer.parameters.map(\.tensor), maxNorm: clip)
            }
            optimizer.step()
        }
        step += 1
        return StepOutcome(
            sums: agreed.sums, stop: agreed.stop ? (StopSignal.received != 0 ? StopSignal.received : SIGTERM) : 0)
    }

    /// A skipped step, or the end of the run, as on_nonfinite says; every rank decides alike and
    /// every rank's message names the ranks whose own loss or gradient was not finite.
    func handleNonFinite(localBad: Bool, plan: StepPlan, epoch: Int) throws {
        // A finite loss with non-finite reduced gradients: the reduction mixed every rank's
        // gradients, so each rank replays its share of the step without communicating to see
        // whether its own were finite (a rare path; the normal step pays nothing for it).
        var bad = localBad
        if !bad {
            bad = try !inStepPrecision { try runPasses(plan, epoch: epoch, replay: true).finite }
        }
        let flags = try communicator.at().allgather(bad ? 1 : 0)
        let ranks = flags.enumerated().filter { $0.element != 0 }.map { String($0.offset) }
        var message = "non-finite loss or gradient at step \(step + 1)"
        message += ranks.isEmpty ? " (in the reduced gradients)" : " on rank \(ranks.joined(separator: ", "))"
        if config.train.onNonfinite == .skip {
            // Even with --quiet: a skipped step changes the run, the user must hear of it.
            if rank0 { log.warning("\(message): step skipped (on_nonfinite: skip)") }
            return
        }
        if let op = AnomalyDetection.firstNonFiniteOp {
            message += "; first produced by \(op)"
        } else if !options.debug {
            message += "; run with --debug to find the op that produced it"
        }
        message += " (set train.on_nonfinite: skip to skip such steps)"
        throw TrainerError("tandem: " + message)
    }

    /// Rank 0 could not write a checkpoint: every rank stops at this step boundary with an error;
    /// the checkpoints written before stay valid and `--resume auto` continues from the last one.
    func checkpointFailure() -> TrainerError {
        guard let keeper, let failure = keeper.firstFailure else {
            return TrainerError(
                "tandem: stopped at step \(step): rank 0 could not write a checkpoint (its message says why)")
        }
        return TrainerError(
            "tandem: \(failure); stopped at step \(step)"
                + (keeper.last.map { "; the last good checkpoint is \($0)" } ?? "")
                + "; free space or fix the folder, then resume with --resume auto")
    }
}
