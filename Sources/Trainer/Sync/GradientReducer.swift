import Data
import Distributed
import NN

/// How one optimizer step's gradients become the global mean on every rank. A strategy owns its
/// buffers (and frees them), asks `StepWork` for the forward and backward passes, and reports
/// local metric sums; the trainer agrees on those and updates. Fast (bucketed, overlapped) and
/// exact (virtual shards, fixed tree) are the two today; compression, a communication thread or
/// sharded optimizer state would each be one more.
protocol GradientSync: AnyObject {
    /// Loss slots this strategy fills in the step agreement (one per virtual shard in exact
    /// mode, so the logged loss is added in one order for every rank count).
    var lossSlots: Int { get }

    /// Slots of a step's training passes for batch norm statistics: micro-batches in fast mode,
    /// virtual shards in exact mode (`forwardBackward`'s `slot` is below this).
    var passSlots: Int { get }

    /// Computes this rank's share of the step that starts at `start` and reduces it: afterwards
    /// every trainable parameter's `grad` holds the global mean.
    func gradients(from start: Cursor, step: Int, work: StepWork) throws -> SyncedStep

    /// The same share again with communication held back: whether this rank's own gradients
    /// are finite (to name the rank when only the reduced gradient showed a NaN).
    func localGradientsAreFinite(from start: Cursor, step: Int, work: StepWork) -> Bool

    /// Communication figures since the last call, for the log (nil: nothing to report). A
    /// collective when stragglers are measured: every rank calls it at the same steps.
    func takeStatistics() throws -> CommStatistics?

    /// Removes backward hooks from the model's parameters (training ended).
    func detach()
}

/// One step's local result.
struct SyncedStep {
    /// This rank's sums (loss, correct, count).
    var sums: MetricSums
    /// Loss per slot of the step agreement, this rank's entries filled.
    var slotLosses: [Double]
    /// Where the data stream is after the step.
    var next: Cursor
    /// Whether the reduced gradient is finite (the same on every rank).
    var finite: Bool
}

/// Mean communication wait and overlap over the steps of a log interval.
struct CommStatistics {
    var waitMs: Double
    var overlapped: Double?
    /// With `distributed.measure_stragglers`: the mean wait for the slowest rank, and that rank.
    var stragglerWaitMs: Double? = nil
    var slowestRank: Int? = nil
}

/// What a strategy needs from the trainer: the sampler, batches and one forward-backward pass.
protocol StepWork: AnyObject {
    var sampler: ShardedSampler { get }
    var gradAccumulation: Int { get }
    /// The epoch's sample order (cached).
    func order(for epoch: Int) -> [Int]
    /// A training batch of these dataset indices (prefetched if it was).
    func trainBatch(_ ids: [Int], epoch: Int) -> Batch
    /// Starts preparing the batch after `cursor` in the background, where prefetching is on.
    func prefetch(after cursor: Cursor)
    /// Forward and backward of one local batch, the step's pass `slot`; local sums.
    func forwardBackward(_ batch: Batch, randomStep: Int, slot: Int) -> MetricSums
    /// 1 / (global samples x loss terms per sample): makes summed gradients the global mean.
    func gradientScale(_ globalCount: Int) -> Float
}
