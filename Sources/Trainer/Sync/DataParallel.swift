import Data
import Distributed
import Foundation
import NN

/// A problem setting up data parallelism: one line for the user.
public struct DataParallelError: Error, CustomStringConvertible {
    /// The line for the user.
    public let message: String
    /// The message as one line.
    public var description: String { message }
}

/// Data parallelism for a custom training loop, and the piece `Trainer` uses itself: every rank
/// holds a replica of the model, computes the passes this type gives it over each global batch,
/// and gets back the gradient of the global batch's mean loss, the same on every rank.
///
/// ```swift
/// let parallel = try DataParallel(model: model, communicator: comm, reduction: .exact(virtualShards: 4))
/// let gradients = try parallel.gradients(globalBatch: ids.count) { pass in
///     let batch = builder.make(ids: Array(ids[pass.rows]), epoch: epoch, augment: true)
///     return myLoss(model(batch.x), batch)  // summed over the pass's samples
/// }
/// if gradients.isFinite { optimizer.update(gradients) }
/// ```
///
/// Like PyTorch's DistributedDataParallel, making one broadcasts rank 0's parameters and
/// buffers to every replica. Every rank must call `gradients` with the same global batch sizes
/// at the same steps (its collectives are matched by order). A model with batch norm layers
/// keeps their running statistics equal on every rank: each step's batch statistics are pooled
/// across ranks (one more allreduce) and applied alike, pass by pass, so exact mode's statistics
/// are the same for every rank count too.
public final class DataParallel {
    /// How gradients are reduced across ranks.
    public enum Reduction: Sendable, Equatable {
        /// Each rank computes its contiguous share of the global batch in one pass; gradients
        /// travel in buckets of `bucketMB` MiB, overlapped with backward or after it (PyTorch
        /// DDP's scheme). Results differ from one rank's in the last bits (sums in another order).
        case fast(
            bucketMB: Double = 25, schedule: GradientBuckets.Schedule = .overlapped,
            compression: GradientBuckets.Compression = .none)
        /// The global batch is cut into `virtualShards` shards (a power of two); each rank computes
        /// its shards one by one and all are added in one fixed tree: bit-identical results on
        /// every rank count dividing it. Puts OpenBLAS and oneDNN on one thread (their threaded
        /// products may add in another order).
        case exact(virtualShards: Int)
    }

    /// Part of a global batch that this rank computes in one forward and backward pass.
    public struct Pass: Sendable, Equatable {
        /// The rows of the global batch (positions in it, not dataset indices).
        public let rows: Range<Int>
        /// The virtual shard (exact mode) or the rank whose share it is (fast mode).
        public let shard: Int
    }

    /// The ranks of the run.
    public let communicator: Communicator
    /// How gradients are reduced.
    public let reduction: Reduction
    /// The trainable parameters whose gradients are reduced, with their dotted names.
    public let parameters: NamedTensors
    let reducer: GradientReducer
    private let meter: CommMeter
    /// Batch norm running statistics agreed across ranks (public path; the `Trainer` carries
    /// them in its own step agreement instead).
    private let statistics: RunningStatistics?

    /// Data parallelism over `model`'s trainable parameters; broadcasts rank 0's parameters and
    /// buffers first. Throws when exact mode's shard count does not suit the rank count.
    public convenience init(
        model: Module, communicator: Communicator, reduction: Reduction = .fast(), measuresStragglers: Bool = false
    ) throws {
        try self.init(
            model: model, communicator: communicator, reduction: reduction, measuresStragglers: measuresStragglers,
            keepsStatistics: true)
    }

    /// As the public init; `keepsStatistics: false` leaves batch norm statistics to the caller.
    convenience init(
        model: Module, communicator: Communicator, reduction: Reduction, measuresStragglers: Bool,
        keepsStatistics: Bool
    ) throws {
        for (_, t) in model.stateDict { try communicator.at().broadcast(t.storage.buffer, root: 0) }
        try self.init(
            parameters: model.namedParameters, communicator: communicator, reduction: reduction,
            measuresStragglers: measuresStragglers, statistics: keepsStatistics ? RunningStatistics(model: model) : nil)
    }

    /// Data parallelism over `parameters` (already equal on every rank).
    private init(
        parameters all: NamedTensors, communicator: Communicator, reduction: Reduction, measuresStragglers: Bool,
        statistics: RunningStatistics?
    ) throws {
        self.statistics = statistics
        parameters = all.filter(\.tensor.requiresGrad)
        self.communicator = communicator
        self.reduction = reduction
        switch reduction {
        case .fast(let mb, let schedule, let compression):
            guard mb > 0 && mb.isFinite else {
                throw DataParallelError(message: "bucketMB must be positive, got \(mb)")
            }
            reducer = BucketReducer(
                parameters: parameters.map(\.tensor), bucketMB: mb, schedule: schedule, compression: compression,
                communicator: communicator)
        case .exact(let v):
            if let problem = DataParallel.problem(virtualShards: v, ranks: communicator.size) {
                throw DataParallelError(message: "exact mode: \(problem)")
            }
            BLAS.setThreads(1)
            Parallel.setProductThreads(1)
            reducer = ShardReducer(parameters: parameters.map(\.tensor), virtualShards: v, communicator: communicator)
        }
        meter = CommMeter(measuresStragglers: measuresStragglers, communicator: communicator)
    }

    /// Why `virtualShards` cannot serve `ranks` ranks (a power of two dividing it), or nil.
    static func problem(virtualShards v: Int, ranks: Int) -> String? {
        guard v > 0 && v & (v - 1) == 0 else { return "\(v) virtual shards: the count must be a power of two" }
        guard v % ranks != 0 || ranks & (ranks - 1) != 0 else { return nil }
        let accepted = (0...20).map { 1 << $0 }.filter { $0 <= v && v % $0 == 0 }.map(String.init)
        return
            "\(v) runs on \(accepted.joined(separator: ", ")) ranks (a power of two dividing it, so every rank "
            + "count adds the shards in the same tree); this run has \(ranks) ranks"
    }

    /// This rank's passes over a global batch of `n` samples, in the order `gradients` runs them.
    public func passes(globalBatch n: Int) -> [Pass] { reducer.passes(globalCount: n) }

    /// One step's gradients over a global batch of `n` samples: `loss` runs once per pass of this
    /// rank (passes without rows are skipped) and returns the loss summed over the pass's
    /// samples; the result is the gradient of the global batch's mean (the sum over every
    /// rank's passes, divided by `n`), equal on every rank.
    public func gradients(globalBatch n: Int, _ loss: (Pass) throws -> Tensor) throws -> Gradients {
        try gradients(globalBatches: [n]) { _, pass in try loss(pass) }
    }

    /// Gradient accumulation (fast mode): the gradient of the mean over several global batches,
    /// reduced once after the last; `loss` gets the batch's index and the pass.
    public func gradients(globalBatches counts: [Int], _ loss: (Int, Pass) throws -> Tensor) throws -> Gradients {
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else {
            throw DataParallelError(message: "global batch sizes must be positive, got \(counts)")
        }
        if case .exact = reduction, counts.count > 1 {
            throw DataParallelError(message: "exact mode takes one global batch per step (use more virtual shards)")
        }
        var passes: [(slot: Int, samples: Int)] = []
        let finite = try run(globalCounts: counts, scale: 1 / Float(counts.reduce(0, +))) { batch, pass, _ in
            guard !pass.rows.isEmpty else { return }
            let value = try loss(batch, pass)
            precondition(value.count == 1, "DataParallel: the loss has shape \(value.shape), not one element")
            passes.append((slot(of: pass, batch: batch), pass.rows.count))
            if value.requiresGrad { value.backward() }
        }
        if let statistics {
            // A step with non-finite gradients is usually skipped: its statistics are dropped too.
            let slots = passSlots(batches: counts.count)
            let agreed = try communicator.at().allreduce(statistics.encode(slots: slots, forwardSlots: passes))
            if finite { statistics.apply(agreed, slots: slots) }
        }
        return Gradients(
            parameters.map { ($0.name, $0.tensor.grad ?? Tensor(zeros: $0.tensor.shape)) }, isFinite: finite)
    }

    /// The step's passes in order (`pass` runs forward and backward; `final` is the step's last
    /// pass), then the reduction scaled by `scale`; whether the result is finite. A `replay`
    /// communicates nothing and answers whether this rank's own gradients are finite.
    func run(
        globalCounts: [Int], scale: Float, replay: Bool = false,
        _ pass: (_ batch: Int, _ pass: Pass, _ final: Bool) throws -> Void
    ) throws -> Bool {
        reducer.begin(replay: replay)
        for (batch, n) in globalCounts.enumerated() {
            let passes = reducer.passes(globalCount: n)
            for (index, p) in passes.enumerated() {
                let final = batch == globalCounts.count - 1 && index == passes.count - 1
                reducer.beforePass(index: index, final: final)
                try pass(batch, p, final)
            }
        }
        if replay { return reducer.localGradientsAreFinite() }
        try meter.arrive()
        let finite = try reducer.reduce(scale: scale)
        meter.record(reductionSeconds: reducer.lastReduction.seconds, overlapped: reducer.lastReduction.overlapped ?? 0)
        return finite
    }

    /// Slots for batch norm statistics of a step of `batches` global batches, and a pass's slot.
    func passSlots(batches: Int) -> Int { batches * reducer.slotsPerBatch }
    func slot(of pass: Pass, batch: Int) -> Int { reducer.slotsPerBatch == 1 ? batch : pass.shard }
    /// Loss slots of the step agreement (one global batch's slots), and a pass's.
    var lossSlots: Int { reducer.slotsPerBatch }
    func lossSlot(of pass: Pass) -> Int { reducer.slotsPerBatch == 1 ? 0 : pass.shard }

    /// Communication figures since the last call (nil on one rank); a collective when stragglers
    /// are measured: every rank calls it at the same steps.
    func takeStatistics() throws -> CommStatistics? { try meter.take(reportsOverlap: reducer is BucketReducer) }

    /// Removes the backward hooks from the parameters: a backward after this starts no collectives.
    public func detach() {
        reducer.detach()
        statistics?.detach()
    }
}
