/// Batch normalization over the channel axis 1 of [N, C], [N, C, L] or [N, C, H, W] input:
/// PyTorch's `BatchNorm1d` / `BatchNorm2d`. Training normalizes with the batch's statistics and
/// moves the running ones (running = (1 - momentum) running + momentum batch, with the unbiased
/// batch variance); evaluation normalizes with the running ones.
///
/// Under a data-parallel trainer the running statistics must stay equal on every rank, so the
/// trainer sets `defersStatistics`: a training pass then only records its statistics, and the
/// trainer combines them across ranks and applies them with `applyStatistics(_:)`.
public final class BatchNorm: Module {
    /// Per-channel scale (gamma).
    public let weight: Tensor
    /// Per-channel shift (beta).
    public let bias: Tensor
    /// Running mean, used in evaluation.
    public let runningMean: Tensor
    /// Running (unbiased) variance, used in evaluation.
    public let runningVar: Tensor
    /// Training passes counted (an integer, held as a Float32 scalar; saved as I64).
    public let numBatchesTracked: Tensor
    /// Weight of a new batch in the running statistics.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let eps: Float
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true
    /// Record batch statistics in `pendingStatistics` instead of updating the running ones.
    public var defersStatistics = false
    /// Statistics of the training passes since the last `takePendingStatistics()`, in order.
    public private(set) var pendingStatistics: [ChannelStatistics] = []
    /// SyncBatchNorm asked for: statistics over every rank's batch.
    public let isSynchronized: Bool
    /// Does the synchronizing for an `isSynchronized` layer (set by the trainer, which owns the
    /// communication); nil: this rank's batch only.
    public var synchronizer: BatchStatisticsSynchronizer?

    /// Number of channels normalized.
    public var channels: Int { weight.count }

    /// weight ones, bias zeros, running mean zeros and running variance ones, as PyTorch.
    /// `synchronized`: SyncBatchNorm (takes effect under a data-parallel trainer).
    public init(channels: Int, momentum: Float = 0.1, eps: Float = 1e-5, synchronized: Bool = false) {
        isSynchronized = synchronized
        precondition(channels > 0 && eps > 0 && (0...1).contains(momentum), "BatchNorm: bad settings")
        weight = Tensor(ones: [channels], requiresGrad: true)
        bias = Tensor(zeros: [channels], requiresGrad: true)
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(ones: [channels])
        numBatchesTracked = Tensor(zeros: [])
        self.momentum = momentum
        self.eps = eps
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors { [(name: "weight", tensor: weight), (name: "bias", tensor: bias)] }

    /// This layer's own non-trainable state (saved in checkpoints, not optimized).
    public var localBuffers: NamedTensors {
        [
            (name: "running_mean", tensor: runningMean), (name: "running_var", tensor: runningVar),
            (name: "num_batches_tracked", tensor: numBatchesTracked),
        ]
    }

    /// Buffers that are integer counters (written as I64, as PyTorch does).
    public var localCounterNames: Set<String> { ["num_batches_tracked"] }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining else {
            return x.batchNormalized(
                weight: weight, bias: bias, eps: eps, statistics: (runningMean, runningVar)
            ).out
        }
        if let synchronizer { return synchronizer.normalize(x, self) }
        let (out, stats) = x.batchNormalized(weight: weight, bias: bias, eps: eps)
        record(stats)
        return out
    }

    /// A training pass's statistics: kept for the trainer when deferred, applied otherwise.
    public func record(_ stats: ChannelStatistics) {
        if defersStatistics { pendingStatistics.append(stats) } else { applyStatistics([stats]) }
    }

    /// The recorded statistics, cleared.
    public func takePendingStatistics() -> [ChannelStatistics] {
        defer { pendingStatistics.removeAll(keepingCapacity: true) }
        return pendingStatistics
    }

    /// Moves the running statistics by each batch's in order, as that many training passes would.
    public func applyStatistics(_ batches: [ChannelStatistics]) {
        let rm = runningMean.data
        let rv = runningVar.data
        for s in batches {
            // PyTorch's running variance uses the unbiased batch variance (n / (n - 1)).
            let correction = s.count > 1 ? Float(s.count) / Float(s.count - 1) : 1
            for c in 0..<channels {
                rm[c] = (1 - momentum) * rm[c] + momentum * s.mean[c]
                rv[c] = (1 - momentum) * rv[c] + momentum * s.variance[c] * correction
            }
            numBatchesTracked.data[0] += 1
        }
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard (2...4).contains(input.count), input[1] == channels else {
            throw ShapeError(
                "batchnorm",
                "normalizes \(channels) channels on axis 1 of [N, C], [N, C, L] or [N, C, H, W], "
                    + "got input \(input)")
        }
        return input
    }
}

/// What a synchronized batch norm needs from the trainer: the batch statistics of all ranks,
/// forward and backward (SyncBatchNorm).
public protocol BatchStatisticsSynchronizer: AnyObject {
    /// The layer's output for `x` normalized with the statistics of every rank's batch.
    func normalize(_ x: Tensor, _ layer: BatchNorm) -> Tensor
}
