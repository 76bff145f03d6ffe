import Glibc

/// How a loss combines its per-element terms.
public enum Reduction: String, Sendable {
    /// Average over the batch (PyTorch's default).
    case mean
    /// Sum over the batch: what data-parallel training needs to weight ranks by sample count.
    case sum
}

/// Fused losses: one forward pass that keeps what the backward pass needs.
extension Tensor {
    /// Cross-entropy of logits [N, C] against integer labels, through a stable log-softmax.
    public static func crossEntropy(logits: Tensor, labels: [Int], reduction: Reduction = .mean) -> Tensor {
        precondition(logits.rank == 2, "cross_entropy: logits must be [batch, classes], got \(logits.shape)")
        let (n, c) = (logits.shape[0], logits.shape[1])
        precondition(labels.count == n, "cross_entropy: \(labels.count) labels for logits \(logits.shape)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < c }, "cross_entropy: a label is outside 0..<\(c)")
        let probs = TensorStorage(count: n * c, zeroed: false)  // softmax, kept for backward
        let xs = logits.data
        let ps = probs.base
        // Rows in fixed blocks on Tandem's threads; the per-row terms are added in row order
        // afterwards, as one thread would.
        let rowBlock = Swift.max(1, Parallel.elementBlock / Swift.max(c, 1))
        let terms = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(n, 1))
        defer { terms.deallocate() }
        Parallel.forEachBlock(n, block: rowBlock) { first, end in
            for r in first..<end {
                let row = xs + r * c
                let p = ps + r * c
                var m = -Float.infinity
                for k in 0..<c { m = Swift.max(m, row[k]) }
                var z: Float = 0
                for k in 0..<c {
                    let e = Glibc.expf(row[k] - m)
                    p[k] = e
                    z += e
                }
                let inv = 1 / z
                for k in 0..<c { p[k] *= inv }
                terms[r] = Double(m + Glibc.logf(z) - row[labels[r]])
            }
        }
        var total: Double = 0
        for r in 0..<n { total += terms[r] }
        let scale: Float = reduction == .mean ? 1 / Float(Swift.max(n, 1)) : 1
        let y = Tensor(scalar: Float(total) * scale)
        return record(y, "cross_entropy", [logits]) { _, g in
            let g = g[0] * scale
            let gx = logits.gradData()
            // Reading probs.base (not ps) captures the buffer: it lives until backward.
            let kept = probs.base
            Parallel.forEachBlock(n, block: rowBlock) { first, end in
                for r in first..<end {
                    let p = kept + r * c
                    let dst = gx + r * c
                    for k in 0..<c { dst[k] += g * p[k] }
                    dst[labels[r]] -= g
                }
            }
        }
    }

    /// Mean (or summed) squared error between prediction and target of the same shape.
    public static func meanSquaredError(_ pred: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        precondition(pred.shape == target.shape, "mse: prediction \(pred.shape) and target \(target.shape) differ")
        let n = pred.count
        let a = pred.data
        let b = target.data
        var total: Double = 0
        for i in 0..<n {
            let d = Double(a[i] - b[i])
            total += d * d
        }
        let scale: Float = reduction == .mean ? 1 / Float(Swift.max(n, 1)) : 1
        let y = Tensor(scalar: Float(total) * scale)
        return record(y, "mse", [pred, target]) { _, g in
            let g = 2 * g[0] * scale
            if pred.requiresGrad {
                let gp = pred.gradData()
                for i in 0..<n { gp[i] += g * (a[i] - b[i]) }
            }
            if target.requiresGrad {
                let gt = target.gradData()
                for i in 0..<n { gt[i] -= g * (a[i] - b[i]) }
            }
        }
    }

    /// Binary cross-entropy on logits: max(x,0) - x*y + log(1 + e^-|x|), stable for any x.
    public static func binaryCrossEntropyWithLogits(
        _ logits: Tensor, _ target: Tensor,
        reduction: Reduction = .mean
    ) -> Tensor {
        precondition(
            logits.shape == target.shape, "bce_with_logits: logits \(logits.shape) and target \(target.shape) differ")
        let n = logits.count
        let x = logits.data
        let t = target.data
        var total: Double = 0
        for i in 0..<n {
            total += Double(Swift.max(x[i], 0) - x[i] * t[i] + Glibc.log1pf(Glibc.expf(-Swift.abs(x[i]))))
        }
        let scale: Float = reduction == .mean ? 1 / Float(Swift.max(n, 1)) : 1
        let y = Tensor(scalar: Float(total) * scale)
        return record(y, "bce_with_logits", [logits, target]) { _, g in
            let g = g[0] * scale
            if logits.requiresGrad {
                let gx = logits.gradData()
                for i in 0..<n {
                    let s = x[i] >= 0 ? 1 / (1 + Glibc.expf(-x[i])) : Glibc.expf(x[i]) / (1 + Glibc.expf(x[i]))
                    gx[i] += g * (s - t[i])
                }
            }
            if target.requiresGrad {
                let gt = target.gradData()
                for i in 0..<n { gt[i] -= g * x[i] }
            }
        }
    }
}
