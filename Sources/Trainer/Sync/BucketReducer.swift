import Data
import Distributed
import Foundation
import Tensor

/// Fast mode: each rank takes its share of every global batch (grad_accumulation of them per
/// step); gradient buckets are all-reduced as backward fills them (PyTorch DDP's overlap) or
/// after backward, as the buckets' schedule says.
final class BucketedSync: GradientSync {
    let buckets: GradientBuckets
    private let meter: CommMeter
    let passSlots: Int

    init(
        parameters: [Tensor], bucketMB: Double, schedule: GradientBuckets.Schedule, gradAccumulation: Int,
        compression: GradientBuckets.Compression = .none, measuresStragglers: Bool = false,
        communicator: Communicator
    ) {
        passSlots = gradAccumulation
        buckets = GradientBuckets(
            parameters: parameters, bucketBytes: max(1, Int(bucketMB * 1_048_576)), schedule: schedule,
            compression: compression, communicator: communicator)
        meter = CommMeter(measuresStragglers: measuresStragglers, communicator: communicator)
    }

    var lossSlots: Int { 1 }

    func gradients(from start: Cursor, step: Int, work: StepWork) throws -> SyncedStep {
        buckets.zero()
        var sums = MetricSums()
        var globalCount = 0
        var cursor = start
        let epoch = start.epoch
        let k = work.gradAccumulation
        for micro in 0..<k {
            let s = work.sampler.step(at: cursor, order: work.order(for: epoch))
            let last = micro == k - 1 || s.next.epoch != epoch
            let batch = work.trainBatch(s.ids, epoch: epoch)
            if last && k == 1 { work.prefetch(after: s.next) }  // the next step's batch, while this one computes
            buckets.holdCommunication = !last
            buckets.rearm()
            sums += work.forwardBackward(batch, randomStep: step * k + micro, slot: micro)
            globalCount += s.globalCount
            cursor = s.next
            if last { break }
        }
        try meter.arrive()
        let finite = try buckets.finish(scale: work.gradientScale(globalCount))
        meter.record(
            reductionSeconds: buckets.waitSeconds,
            overlapped: Double(buckets.completedDuringBackward) / Double(max(buckets.buckets.count, 1)))
        return SyncedStep(sums: sums, slotLosses: [sums.loss], next: cursor, finite: finite)
    }

    func localGradientsAreFinite(from start: Cursor, step: Int, work: StepWork) -> Bool {
        buckets.holdCommunication = true
        defer { buckets.holdCommunication = false }
        buckets.zero()
        var cursor = start
        let epoch = start.epoch
        let k = work.gradAccumulation
        for micro in 0..<k {
            let s = work.sampler.step(at: cursor, order: work.order(for: epoch))
            _ = work.forwardBackward(work.trainBatch(s.ids, epoch: epoch), randomStep: step * k + micro, slot: micro)
            cursor = s.next
            if s.next.epoch != epoch { break }
        }
        return buckets.buckets.allSatisfy { VectorOps.allFinite($0.storage.base, $0.storage.count) }
    }

    func takeStatistics() throws -> CommStatistics? { try meter.take(reportsOverlap: true) }

    func detach() { buckets.detach() }
}
