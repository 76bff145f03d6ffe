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

extension Trainer: StepWork {
    var gradAccumulation: Int { config.train.gradAccumulation }

    /// Loss terms per sample: 1 for cross-entropy, the positions of a sequence, the target width
    /// for elementwise losses.
    var lossTermsPerSample: Int { Evaluator.lossTerms(config.loss, data.train) }

    /// Loss of a batch, summed over its samples, and its correct count.
    func lossSum(_ out: Tensor, _ batch: Batch) -> (Tensor, Double) {
        (config.loss.sum(out, batch), Evaluator.correct(out, batch))
    }

    /// Forward and backward of one local batch; returns its local sums.
    func forwardBackward(_ batch: Batch, randomStep: Int, slot: Int) -> MetricSums {
        var sums = MetricSums()
        guard batch.count > 0 else { return sums }
        forwardSlots.append((slot, batch.count))
        model.setRandomContext(RandomContext(seed: config.seed, step: randomStep, sampleIDs: batch.ids))
        let out = model(batch.x)
        let (loss, correct) = lossSum(out, batch)
        sums.loss = Double(loss.item) / Double(lossTermsPerSample)  // per-sample loss, as PyTorch's mean
        sums.correct = correct
        sums.count = Double(batch.count)
        loss.backward(seed: FaultInjection.hooks?.backwardSeed(step: step, rank: communicator.rank, loss: loss))
        return sums
    }

    var sampler: ShardedSampler { stream.sampler }

    func order(for epoch: Int) -> [Int] { stream.order(for: epoch) }

    func trainBatch(_ ids: [Int], epoch: Int) -> Batch { stream.trainBatch(ids, epoch: epoch) }

    func prefetch(after next: Cursor) {
        guard config.data.prefetch && step + 1 < totalSteps else { return }
        stream.prefetch(at: next)
    }

    /// A step's passes in `train.precision`: one autocast scope, so a bf16 step casts each
    /// weight once.
    func inStepPrecision<R>(_ passes: () throws -> R) rethrows -> R {
        try Autocast.run(config.train.precision, caching: optimizer.parameters.map(\.tensor), passes)
    }

    /// Gradients are sums over samples (and loss terms); this makes them the global mean.
    func gradientScale(_ globalCount: Int) -> Float { 1 / Float(max(globalCount * lossTermsPerSample, 1)) }

    /// One optimizer step: gradients reduced by the sync strategy, then one agreement on stop
    /// signals, non-finite values, checkpoint failures and metric sums, then the update.
    func trainStep() throws -> StepOutcome {
        guard let sync else { preconditionFailure("trainStep before prepare") }
        FaultInjection.hooks?.stepStarting(step, resumed: resumed)
        optimizer.learningRate = schedule.learningRate(base: config.optimizer.lr, step: step)
        let start = cursor
        forwardSlots.removeAll(keepingCapacity: true)
        // One autocast scope per step: in bf16 the weights are cast once, before the first pass.
        let local = try inStepPrecision { try sync.gradients(from: start, step: step, work: self) }
        if let failure = syncBatchNorm?.takeFailure() { throw failure }
        cursor = local.next
        var mine = StepAgreement(slots: sync.lossSlots)
        if let runningStatistics {
            mine.extra = try runningStatistics.encode(slots: sync.passSlots, forwardSlots: forwardSlots)
        }
        mine.stop = StopSignal.received != 0
        mine.nonFinite = !local.sums.loss.isFinite
        mine.checkpointFailed = keeper?.firstFailure != nil
        mine.correct = local.sums.correct
        mine.count = local.sums.count
        mine.slotLosses = local.slotLosses
        let agreed = StepAgreement(
            decoding: try communicator.at().allreduce(mine.encoded), slots: sync.lossSlots)
        if agreed.checkpointFailed { throw checkpointFailure() }
        if agreed.nonFinite || !local.finite {
            try handleNonFinite(localBad: mine.nonFinite, from: start)
            runningStatistics?.discardPending()  // the replay's; the skipped step moves nothing
        } else {
            runningStatistics?.apply(agreed.extra, slots: sync.passSlots)
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
    func handleNonFinite(localBad: Bool, from start: Cursor) throws {
        // A finite loss with non-finite reduced gradients: the reduction mixed every rank's
        // gradients, so each rank replays its share of the step without communicating to see
        // whether its own were finite (a rare path; the normal step pays nothing for it).
        var bad = localBad
        if !bad, let sync {
            bad = !inStepPrecision { sync.localGradientsAreFinite(from: start, step: step, work: self) }
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
