import Data
import Distributed
import Foundation
import Tensor

/// Exact mode: the global batch is cut into V virtual shards; this rank computes its V/N shards
/// one by one, keeps each gradient apart, and `ExactReducer` adds all V in one fixed tree. The
/// same association for every N dividing V: bit-identical weights and logged losses.
final class ExactSync: GradientSync {
    let reducer: ExactReducer
    private let parameters: [Tensor]
    /// One flat gradient buffer per local shard: each shard's backward writes its own (the
    /// parameters' `grad` views are pointed into it), and the sum lands in the first.
    private let slots: [TensorStorage]
    let virtualShards: Int
    private let meter: CommMeter

    init(parameters: [Tensor], virtualShards: Int, measuresStragglers: Bool = false, communicator: Communicator) {
        self.parameters = parameters.filter(\.requiresGrad)
        let length = self.parameters.reduce(0) { $0 + $1.count }
        let reducer = ExactReducer(length: length, virtualShards: virtualShards, communicator: communicator)
        slots = reducer.localShards.map { _ in TensorStorage(count: Swift.max(length, 1)) }
        self.reducer = reducer
        self.virtualShards = virtualShards
        meter = CommMeter(measuresStragglers: measuresStragglers, communicator: communicator)
    }

    var lossSlots: Int { virtualShards }
    var passSlots: Int { virtualShards }

    func gradients(from start: Cursor, step: Int, work: StepWork) throws -> SyncedStep {
        let s = work.sampler.step(at: start, order: work.order(for: start.epoch))  // the whole global batch
        var sums = MetricSums()
        var losses = [Double](repeating: 0, count: virtualShards)
        for (slot, shard) in reducer.localShards.enumerated() {
            use(slot)
            let shardSums = work.forwardBackward(
                batch(s, shard: shard, epoch: start.epoch, work: work), randomStep: step, slot: shard)
            losses[shard] = shardSums.loss
            sums += shardSums
        }
        try meter.arrive()
        let t0 = ProcessInfo.processInfo.systemUptime
        try reducer.reduce(slots.map(\.base))
        meter.record(reductionSeconds: ProcessInfo.processInfo.systemUptime - t0)
        GradientBuckets.pointFlat(parameters, into: slots[0])
        let finite = VectorOps.scale(slots[0].base, reducer.length, by: work.gradientScale(s.globalCount))
        return SyncedStep(sums: sums, slotLosses: losses, next: s.next, finite: finite)
    }

    func localGradientsAreFinite(from start: Cursor, step: Int, work: StepWork) -> Bool {
        let s = work.sampler.step(at: start, order: work.order(for: start.epoch))
        use(0)
        for shard in reducer.localShards {
            _ = work.forwardBackward(
                batch(s, shard: shard, epoch: start.epoch, work: work), randomStep: step, slot: shard)
        }
        return VectorOps.allFinite(slots[0].base, reducer.length)
    }

    /// The samples of one virtual shard of the global batch `s`.
    private func batch(_ s: (ids: [Int], globalCount: Int, next: Cursor), shard: Int, epoch: Int, work: StepWork)
        -> Batch
    {
        work.trainBatch(Array(s.ids[Partition.share(s.globalCount, part: shard, parts: virtualShards)]), epoch: epoch)
    }

    /// Zeroes a shard's buffer and points the gradients into it.
    private func use(_ slot: Int) {
        slots[slot].base.initialize(repeating: 0, count: slots[slot].count)
        GradientBuckets.pointFlat(parameters, into: slots[slot])
    }

    func takeStatistics() throws -> CommStatistics? { try meter.take(reportsOverlap: false) }

    func detach() {}
}
