import Distributed
import NN

/// SyncBatchNorm for the layers configured with `sync: true`: the statistics of the whole
/// global batch, forward (count, sums, squares) and backward (the two gradient sums), through
/// one small Float64 allreduce each. The collectives go through `at()` like every other, so the
/// debug schedule check names them.
///
/// A failure inside backward cannot be thrown from there: the first one is kept, the local sums
/// are used, and the trainer throws it after the pass (`takeFailure`).
final class SyncBatchNorm: BatchStatisticsSynchronizer {
    let communicator: Communicator
    private var failure: Error?

    init(communicator: Communicator) { self.communicator = communicator }

    /// Synchronizes every `isSynchronized` layer of `model` over more than one rank; nil when
    /// there is nothing to synchronize.
    static func attach(to model: Module, communicator: Communicator) -> SyncBatchNorm? {
        let layers = SyncBatchNorm.layers(of: model)
        guard !layers.isEmpty && communicator.size > 1 else { return nil }
        let sync = SyncBatchNorm(communicator: communicator)
        for bn in layers { bn.synchronizer = sync }
        return sync
    }

    /// The layers of `model` configured as SyncBatchNorm.
    static func layers(of model: Module) -> [BatchNorm] {
        var out: [BatchNorm] = []
        model.visit { if let bn = $0 as? BatchNorm, bn.isSynchronized { out.append(bn) } }
        return out
    }

    /// Training ended: the layers go back to their own batches.
    static func detach(from model: Module) { for bn in layers(of: model) { bn.synchronizer = nil } }

    func normalize(_ x: Tensor, _ layer: BatchNorm) -> Tensor {
        let (out, global) = x.batchNormalized(
            weight: layer.weight, bias: layer.bias, eps: layer.eps,
            allreduce: { [weak self] v in self?.sum(&v) })
        // The global statistics with this rank's count: pooled over ranks they stay global.
        var mine = global
        mine.count = x.count / max(layer.channels, 1)
        layer.record(mine)
        return out
    }

    private func sum(_ v: inout [Double]) {
        guard failure == nil else { return }
        do { v = try communicator.at().allreduce(v) } catch { failure = error }
    }

    /// The first communication failure since the last call.
    func takeFailure() -> Error? {
        defer { failure = nil }
        return failure
    }
}
