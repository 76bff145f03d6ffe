import NN

/// Keeps BatchNorm running statistics equal on every rank, at no extra collective: each training
/// pass's batch statistics travel in the step agreement's allreduce, and every rank then applies
/// the same combined statistics in the same order.
///
/// A step's passes are numbered by slot: the micro-batch in fast mode (every rank's pass `j` lands
/// in slot `j`, pooled over the ranks' samples: the statistics of the global micro-batch, as
/// SyncBatchNorm would compute them), the virtual shard in exact mode (one contributor per slot, so
/// the sums are exact and the result is the same for every rank count). Slots are applied in
/// order, as a single process running those passes one after another would.
final class RunningStatistics {
    let layers: [BatchNorm]
    /// Values per slot: the sample count, then per layer the values per channel (samples x
    /// positions) and per channel n * mean and n * (variance + mean^2) (pooling those gives the
    /// combined variance).
    let width: Int

    /// nil when the model has no batch norm layers (nothing to agree on).
    init?(model: Module) {
        var found: [BatchNorm] = []
        model.visit { if let bn = $0 as? BatchNorm { found.append(bn) } }
        guard !found.isEmpty else { return nil }
        for bn in found { bn.defersStatistics = true }
        layers = found
        width = 1 + found.reduce(0) { $0 + 1 + 2 * $1.channels }
    }

    /// Training ended: the layers update their own statistics again.
    func detach() {
        for bn in layers { bn.defersStatistics = false }
        discardPending()
    }

    /// Statistics recorded before this step (a replayed pass): dropped.
    func discardPending() { for bn in layers { _ = bn.takePendingStatistics() } }

    /// This rank's contribution: `slots` slots, filled where this rank ran a pass. `forwardSlots`
    /// gives the slot of each pass in the order they ran.
    func encode(slots: Int, forwardSlots: [(slot: Int, samples: Int)]) throws -> [Double] {
        var v = [Double](repeating: 0, count: slots * width)
        let pending = layers.map { $0.takePendingStatistics() }
        for (l, p) in pending.enumerated() where p.count != forwardSlots.count {
            throw TrainerError(
                "tandem: batch norm layer \(l) ran \(p.count) times in \(forwardSlots.count) training passes; "
                    + "a batch norm module may be used once per forward pass")
        }
        for (pass, (slot, samples)) in forwardSlots.enumerated() {
            var k = slot * width
            let n = Double(samples)
            v[k] += n
            k += 1
            for (l, bn) in layers.enumerated() {
                let s = pending[l][pass]
                v[k] += Double(s.count)
                k += 1
                for c in 0..<bn.channels {
                    let m = Double(s.mean[c])
                    v[k + c] += n * m
                    v[k + bn.channels + c] += n * (Double(s.variance[c]) + m * m)
                }
                k += 2 * bn.channels
            }
        }
        return v
    }

    /// Applies the allreduced slots in order (empty slots skipped).
    func apply(_ v: [Double], slots: Int) {
        for slot in 0..<slots {
            var k = slot * width
            let n = v[k]
            k += 1
            guard n > 0 else { continue }
            for bn in layers {
                var s = ChannelStatistics(
                    mean: [Float](repeating: 0, count: bn.channels),
                    variance: [Float](repeating: 0, count: bn.channels), count: Int(v[k]))
                k += 1
                for c in 0..<bn.channels {
                    let m = v[k + c] / n
                    s.mean[c] = Float(m)
                    s.variance[c] = Float(max(v[k + bn.channels + c] / n - m * m, 0))
                }
                bn.applyStatistics([s])
                k += 2 * bn.channels
            }
        }
    }
}
