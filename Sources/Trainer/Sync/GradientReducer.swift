import Data
import Distributed
import NN

/// How one step's gradients become the global mean on every rank, below `DataParallel`: the
/// passes a rank runs for a global batch, the gradient buffers each pass writes, and the
/// reduction after the last. Fast (buckets, overlapped) and exact (virtual shards, fixed tree)
/// are the two; compression, a communication thread or sharded optimizer state would each be
/// one more. The data loop is the caller's: a reducer only says where gradients go.
protocol GradientReducer: AnyObject {
    /// Slots of one global batch's passes, for batch norm statistics and the step agreement's
    /// losses: 1 in fast mode (each rank's share is slot 0 of its micro-batch), the virtual
    /// shards in exact mode (so the logged loss is added in one order for every rank count).
    var slotsPerBatch: Int { get }
    /// This rank's passes over a global batch of `n` samples, in the order they must run.
    func passes(globalCount n: Int) -> [DataParallel.Pass]
    /// A new step; `replay` holds every communication back (the non-finite step's replay).
    func begin(replay: Bool)
    /// Before the pass at `index` of this rank's passes of a global batch; `final`: the step's last.
    func beforePass(index: Int, final: Bool)
    /// Reduces every pass's gradients into the parameters' `grad` times `scale`; whether the
    /// result is finite (the same verdict on every rank).
    func reduce(scale: Float) throws -> Bool
    /// After a replay: whether this rank's own gradients are finite.
    func localGradientsAreFinite() -> Bool
    /// The last reduction's seconds and share of buckets reduced during backward (fast mode).
    var lastReduction: (seconds: Double, overlapped: Double?) { get }
    /// Removes backward hooks from the model's parameters (training ended).
    func detach()
}

/// Mean communication wait and overlap over the steps of a log interval.
struct CommStatistics {
    var waitMs: Double
    var overlapped: Double?
    /// With `distributed.measure_stragglers`: the mean wait for the slowest rank, and that rank.
    var stragglerWaitMs: Double? = nil
    var slowestRank: Int? = nil
}
