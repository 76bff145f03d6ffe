import Data
import Distributed
import Tensor

/// Exact mode: the global batch is cut into V virtual shards; this rank computes its V/N shards
/// one by one, keeps each gradient apart, and `ExactReducer` adds all V in one fixed tree. The
/// same association for every N dividing V: bit-identical weights and logged losses.
final class ExactSync: GradientSync {
    let reducer: ExactReducer
    /// Every trainable gradient as one flat buffer (each parameter's `grad` is a view into it).
    private let flat: TensorStorage
    /// One buffer per local shard; freed with the strategy.
    private let slots: [UnsafeMutablePointer<Float>]
    let virtualShards: Int

    init(parameters: [Tensor], virtualShards: Int, communicator: Communicator) {
        let flat = GradientBuckets.packFlat(parameters.filter(\.requiresGrad))
        let reducer = ExactReducer(length: flat.count, virtualShards: virtualShards, communicator: communicator)
        slots = reducer.localShards.map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(flat.count, 1))
            p.initialize(repeating: 0, count: flat.count)
            return p
        }
        self.flat = flat
        self.reducer = reducer
        self.virtualShards = virtualShards
    }

    deinit { for p in slots { p.deallocate() } }

    var lossSlots: Int { virtualShards }
    var passSlots: Int { virtualShards }

    func gradients(from start: Cursor, step: Int, work: StepWork) throws -> SyncedStep {
        let s = work.sampler.step(at: start, order: work.order(for: start.epoch))  // the whole global batch
        var sums = MetricSums()
        var losses = [Double](repeating: 0, count: virtualShards)
        for (slot, shard) in reducer.localShards.enumerated() {
            zeroFlat()
            let shardSums = work.forwardBackward(
                batch(s, shard: shard, epoch: start.epoch, work: work), randomStep: step, slot: shard)
            losses[shard] = shardSums.loss
            sums += shardSums
            slots[slot].update(from: flat.base, count: flat.count)
        }
        try reducer.reduce(slots)
        flat.base.update(from: slots[0], count: flat.count)
        let finite = VectorOps.scale(flat.base, flat.count, by: work.gradientScale(s.globalCount))
        return SyncedStep(sums: sums, slotLosses: losses, next: s.next, finite: finite)
    }

    func localGradientsAreFinite(from start: Cursor, step: Int, work: StepWork) -> Bool {
        let s = work.sampler.step(at: start, order: work.order(for: start.epoch))
        zeroFlat()
        for shard in reducer.localShards {
            _ = work.forwardBackward(
                batch(s, shard: shard, epoch: start.epoch, work: work), randomStep: step, slot: shard)
        }
        return VectorOps.scale(flat.base, flat.count, by: 1)
    }

    /// The samples of one virtual shard of the global batch `s`.
    private func batch(_ s: (ids: [Int], globalCount: Int, next: Cursor), shard: Int, epoch: Int, work: StepWork)
        -> Batch
    {
        work.trainBatch(Array(s.ids[Partition.share(s.globalCount, part: shard, parts: virtualShards)]), epoch: epoch)
    }

    private func zeroFlat() { flat.base.initialize(repeating: 0, count: flat.count) }

    func takeStatistics() -> CommStatistics? { nil }

    func detach() {}
}
