import Data
import Distributed
import Foundation
import NN
import Optim

/// What one optimizer step leaves behind: global sums (all ranks agree) and the stop flag.
struct StepOutcome {
    var sums: MetricSums
    var stop: Int32
}

extension Trainer {
    /// Loss of a batch, summed over its samples (ranks weigh by real counts), and its correct count.
    func lossSum(_ out: Tensor, _ batch: Batch) -> (Tensor, Double) {
        var correct = 0.0
        if !batch.labels.isEmpty {
            let predicted = out.argmax(alongAxis: -1)
            for (p, l) in zip(predicted, batch.labels) where p == l { correct += 1 }
        }
        switch config.loss {
        case .crossEntropy: return (Tensor.crossEntropy(logits: out, labels: batch.labels, reduction: .sum), correct)
        case .mse: return (Tensor.meanSquaredError(out, batch.targets!, reduction: .sum), correct)
        case .bceWithLogits: return (Tensor.binaryCrossEntropyWithLogits(out, batch.targets!, reduction: .sum), correct)
        }
    }

    /// Loss terms per sample: 1 for cross-entropy, the target width for elementwise losses.
    var lossTermsPerSample: Int {
        if config.loss == .crossEntropy { return 1 }
        if case let .values(_, w) = data.train.targets { return w }
        return data.train.classCount ?? 1
    }

    /// Forward and backward of one local batch; returns its local sums.
    func forwardBackward(_ batch: Batch, randomStep: Int) -> MetricSums {
        var sums = MetricSums()
        guard batch.count > 0 else { return sums }
        model.setRandomContext(RandomContext(seed: config.seed, step: randomStep, sampleIDs: batch.ids))
        let out = model(batch.x)
        let (loss, correct) = lossSum(out, batch)
        sums.loss = Double(loss.item) / Double(lossTermsPerSample)   // per-sample loss, as PyTorch's mean
        sums.correct = correct
        sums.count = Double(batch.count)
        if FaultInjection.poisonsGradient(step: step, rank: communicator.rank) {
            loss.backward(seed: Tensor([.nan], shape: loss.shape))   // NaN gradients, finite loss
        } else {
            loss.backward()
        }
        return sums
    }

    func order(for epoch: Int) -> [Int] {
        if let c = orderCache, c.epoch == epoch { return c.order }
        let o = sampler.order(epoch: epoch)
        orderCache = (epoch, o)
        return o
    }

    func makeBatch(_ ids: [Int], epoch: Int) -> Batch { trainBatches.make(ids: ids, epoch: epoch, augment: true) }

    /// One optimizer step: grad_accumulation global batches (fast mode) or the virtual shards of
    /// one global batch (exact mode), averaged over the real global sample count, then agreement
    /// on non-finite values and stop signals, then the update.
    func trainStep() throws -> StepOutcome {
        optimizer.learningRate = learningRate(at: step)
        let start = cursor
        let (local, finite) = config.determinism.isExact ? try exactGradients() : try fastGradients()
        // One small allreduce: stop flag, non-finite flag, checkpoint failure, this step's metric
        // sums. In exact mode each virtual shard's loss has its own slot (x + 0 is exact), summed
        // in shard order afterwards, so the logged loss too is the same for every world size.
        let localBad = !local.loss.isFinite
        let slots = config.determinism.isExact ? config.determinism.virtualShards : 1
        let losses = 5
        var message = [Double](repeating: 0, count: losses + slots)
        message[0] = StopSignal.received != 0 ? 1 : 0
        message[1] = localBad ? 1 : 0
        message[2] = local.correct
        message[3] = local.count
        message[4] = writer?.firstFailure != nil ? 1 : 0
        if config.determinism.isExact {
            for (k, loss) in zip(exact!.localShards, shardLosses) { message[losses + k] = loss }
        } else {
            message[losses] = local.loss
        }
        let agreed = try communicator.at().allreduce(message)
        if agreed[4] > 0 { throw checkpointFailure() }
        var globalSums = MetricSums()
        globalSums.correct = agreed[2]
        globalSums.count = agreed[3]
        for k in 0..<slots { globalSums.loss += agreed[losses + k] }
        if agreed[1] > 0 || !finite {
            try handleNonFinite(localBad: localBad, from: start)
        } else {
            if let clip = config.optimizer.clipGradNorm { clipGradientNorm(optimizer.parameters.map(\.tensor), maxNorm: clip) }
            optimizer.step()
        }
        step += 1
        return StepOutcome(sums: globalSums, stop: agreed[0] > 0 ? (StopSignal.received != 0 ? StopSignal.received : SIGTERM) : 0)
    }

    /// Fast mode: local share, backward with overlapped bucket allreduce.
    func fastGradients() throws -> (MetricSums, Bool) {
        buckets.zero()
        var sums = MetricSums(), globalCount = 0
        let epoch = cursor.epoch
        let k = config.train.gradAccumulation
        for micro in 0..<k {
            let ord = order(for: epoch)
            let s = sampler.step(at: cursor, order: ord)
            let last = micro == k - 1 || s.next.epoch != epoch
            let batch: Batch
            if prefetcher.isBusy { batch = prefetcher.take() } else { batch = makeBatch(s.ids, epoch: epoch) }
            // Prepare the next step's batch while this one computes.
            if last && config.data.prefetch && k == 1 && step + 1 < totalSteps {
                let next = s.next, nextIDs = sampler.step(at: next, order: order(for: next.epoch)).ids
                let builder = trainBatches
                prefetcher.start { builder.make(ids: nextIDs, epoch: next.epoch, augment: true) }
            }
            buckets.holdCommunication = !last
            buckets.rearm()
            sums += forwardBackward(batch, randomStep: step * k + micro)
            globalCount += s.globalCount
            cursor = s.next
            if last { break }
        }
        let finite = try buckets.finish(scale: gradientScale(globalCount))
        commWait += buckets.waitSeconds
        commOverlap += Double(buckets.completedDuringBackward) / Double(max(buckets.buckets.count, 1))
        commSteps += 1
        return (sums, finite)
    }

    /// Gradients are sums over samples (and loss terms); this makes them the global mean.
    func gradientScale(_ globalCount: Int) -> Float { 1 / Float(max(globalCount * lossTermsPerSample, 1)) }

    /// Exact mode: this rank's virtual shards one by one, each gradient kept apart, then the
    /// fixed-order tree reduction across shards and ranks.
    func exactGradients() throws -> (MetricSums, Bool) {
        let epoch = cursor.epoch
        let ord = order(for: epoch)
        let s = sampler.step(at: cursor, order: ord)   // the whole global batch (sampler sees 1 rank)
        let v = config.determinism.virtualShards
        var sums = MetricSums()
        shardLosses.removeAll(keepingCapacity: true)
        for (slot, shard) in exact!.localShards.enumerated() {
            buckets.zero()
            let range = Partition.share(s.globalCount, part: shard, parts: v)
            let ids = Array(s.ids[range])
            let shardSums = forwardBackward(makeBatch(ids, epoch: epoch), randomStep: step)
            shardLosses.append(shardSums.loss)
            sums += shardSums
            exactSlots[slot].update(from: flatGradient, count: flatGradientCount)
        }
        try exact!.reduce(exactSlots)
        flatGradient.update(from: exactSlots[0], count: flatGradientCount)
        cursor = s.next
        return (sums, VectorOps.scale(flatGradient, flatGradientCount, by: gradientScale(s.globalCount)))
    }

    /// Exact mode keeps all gradients in one bucket: this is it.
    var flatGradient: UnsafeMutablePointer<Float> { buckets.buckets[0].storage.base }
    var flatGradientCount: Int { buckets.elementCount }

    /// A skipped step, or the end of the run, as on_nonfinite says; every rank decides alike and
    /// every rank's message names the ranks whose own loss or gradient was not finite.
    func handleNonFinite(localBad: Bool, from start: Cursor) throws {
        // A finite loss with non-finite reduced gradients: the reduction mixed every rank's
        // gradients, so each rank replays its share of the step without communicating to see
        // whether its own were finite (a rare path; the normal step pays nothing for it).
        var bad = localBad
        if !bad { bad = !replayedLocalGradientsAreFinite(from: start) }
        let flags = try communicator.at().allgather(bad ? 1 : 0)
        let ranks = flags.enumerated().filter { $0.element != 0 }.map { String($0.offset) }
        var message = "tandem: non-finite loss or gradient at step \(step + 1)"
        message += ranks.isEmpty ? " (in the reduced gradients)" : " on rank \(ranks.joined(separator: ", "))"
        if config.train.onNonfinite == "skip" {
            // Even with --quiet: a skipped step changes the run, the user must hear of it.
            if rank0 { fputs(message + ": step skipped (on_nonfinite: skip)\n", stderr) }
            return
        }
        if let op = AnomalyDetection.firstNonFiniteOp { message += "; first produced by \(op)" }
        else if !options.debug { message += "; run with --debug to find the op that produced it" }
        message += " (set train.on_nonfinite: skip to skip such steps)"
        throw TrainerError(message)
    }

    /// This rank's gradients for the step that began at `start`, recomputed with communication
    /// held back; whether they are all finite. Batches and dropout masks are keyed by step and
    /// sample, so the replay computes what the step computed.
    func replayedLocalGradientsAreFinite(from start: Cursor) -> Bool {
        let saved = cursor
        defer { cursor = saved; buckets.holdCommunication = false }
        cursor = start
        buckets.holdCommunication = true
        buckets.zero()
        let epoch = start.epoch, ord = order(for: epoch)
        if config.determinism.isExact {
            let s = sampler.step(at: start, order: ord), v = config.determinism.virtualShards
            for shard in exact!.localShards {
                let ids = Array(s.ids[Partition.share(s.globalCount, part: shard, parts: v)])
                _ = forwardBackward(makeBatch(ids, epoch: epoch), randomStep: step)
            }
        } else {
            let k = config.train.gradAccumulation
            for micro in 0..<k {
                let s = sampler.step(at: cursor, order: ord)
                _ = forwardBackward(makeBatch(s.ids, epoch: epoch), randomStep: step * k + micro)
                cursor = s.next
                if s.next.epoch != epoch { break }
            }
        }
        return buckets.buckets.allSatisfy { VectorOps.scale($0.storage.base, $0.storage.count, by: 1) }
    }

    /// Rank 0 could not write a checkpoint: every rank stops at this step boundary with an error;
    /// the checkpoints written before stay valid and `--resume auto` continues from the last one.
    func checkpointFailure() -> TrainerError {
        guard rank0, let failure = writer?.firstFailure else {
            return TrainerError("tandem: stopped at step \(step): rank 0 could not write a checkpoint (its message says why)")
        }
        let last = writer?.lastWritten ?? lastCheckpoint
        return TrainerError("tandem: \(failure); stopped at step \(step)" + (last.map { "; the last good checkpoint is \($0)" } ?? "")
                            + "; free space or fix the folder, then resume with --resume auto")
    }
}
