import CKernels
import Glibc

extension Tensor {
    /// Rows of a [vocabulary, D] table picked by token ids: ids [...] -> [..., D] (PyTorch's
    /// `F.embedding`). Ids are whole numbers held as Float32 (as batches carry them), each in
    /// 0..<vocabulary; the backward pass adds every row's gradient into its table row, so a
    /// token used twice gets both.
    public static func embedding(_ ids: Tensor, table: Tensor) -> Tensor {
        precondition(table.rank == 2, "embedding: table must be [vocabulary, dim], got \(table.shape)")
        let vocabulary = table.shape[0]
        let dim = table.shape[1]
        let rows = ids.count
        var index = [Int](repeating: 0, count: rows)
        for i in 0..<rows {
            let v = ids.data[i]
            precondition(
                v >= 0 && v < Float(vocabulary) && v == v.rounded(),
                "embedding: token id \(v) is outside 0..<\(vocabulary)")
            index[i] = Int(v)
        }
        let y = empty(ids.shape + [dim])
        for (r, id) in index.enumerated() { (y.data + r * dim).update(from: table.data + id * dim, count: dim) }
        return record(y, "embedding", [table]) { _, g in
            let gt = table.gradData()
            for (r, id) in index.enumerated() {
                let dst = gt + id * dim
                let src = g + r * dim
                for j in 0..<dim { dst[j] += src[j] }
            }
        }
    }

    /// Multi-head scaled dot-product self-attention on packed projections: qkv [N, T, 3D] holds
    /// each position's query, key and value ([q | k | v], heads side by side within each), the
    /// result is [N, T, D] with heads side by side (ready for the output projection).
    ///
    /// Every product is one sgemm per sample and head reading the packed rows with a leading
    /// dimension of 3D: no transposes, no copies. The causal mask is applied inside the softmax
    /// pass (masked entries become 0). `dropoutMask` ([N, H, T, T] of 0/1, nil for none) drops
    /// attention weights with inverted scaling, as PyTorch's attention dropout.
    public static func selfAttention(_ qkv: Tensor, heads: Int, causal: Bool, dropoutMask: Tensor? = nil, p: Float = 0)
        -> Tensor
    {
        precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "attention: qkv \(qkv.shape), \(heads) heads")
        let n = qkv.shape[0]
        let t = qkv.shape[1]
        let d = qkv.shape[2] / 3
        let dh = d / heads
        let scale = 1 / Float(dh).squareRoot()
        let probabilities = Tensor.empty([n, heads, t, t])  // softmax output, kept for backward
        let dropped = dropoutMask.map { _ in Tensor.empty([t, t]) }
        let keep = 1 / (1 - p)
        let y = empty([n, t, d])
        let src = qkv.data
        let probs = probabilities.data
        for i in 0..<n {
            for h in 0..<heads {
                let q = src + i * t * 3 * d + h * dh
                let pm = probs + (i * heads + h) * t * t
                BLAS.gemm(
                    transB: true, m: t, n: t, k: dh, alpha: scale, a: q, lda: 3 * d, b: q + d, ldb: 3 * d,
                    c: pm, ldc: t)
                tandem_softmax_block(pm, t, causal ? 1 : 0)  // masked entries become 0
                var weights = UnsafePointer(pm)
                if let mask = dropoutMask, let dropped {
                    let m = mask.data + (i * heads + h) * t * t
                    for k in 0..<t * t { dropped.data[k] = pm[k] * m[k] * keep }
                    weights = UnsafePointer(dropped.data)
                }
                BLAS.gemm(
                    m: t, n: dh, k: t, a: weights, lda: t, b: q + 2 * d, ldb: 3 * d, c: y.data + i * t * d + h * dh,
                    ldc: d)
            }
        }
        return record(y, "attention", [qkv]) { _, g in
            let gq = qkv.gradData()
            let scratch = Tensor.empty([t, t])  // held until the end of the closure
            let dP = scratch.data
            for i in 0..<n {
                for h in 0..<heads {
                    let q = src + i * t * 3 * d + h * dh
                    let gqh = gq + i * t * 3 * d + h * dh
                    let go = g + i * t * d + h * dh
                    let pm = probs + (i * heads + h) * t * t
                    var weights = UnsafePointer(pm)
                    let m = dropoutMask.map { $0.data + (i * heads + h) * t * t }
                    if let m, let dropped {
                        for k in 0..<t * t { dropped.data[k] = pm[k] * m[k] * keep }
                        weights = UnsafePointer(dropped.data)
                    }
                    // dV += W^T dO;  dW = dO V^T (then through the dropout mask)
                    BLAS.gemm(
                        transA: true, m: t, n: dh, k: t, a: weights, lda: t, b: go, ldb: d, beta: 1,
                        c: gqh + 2 * d, ldc: 3 * d)
                    BLAS.gemm(transB: true, m: t, n: t, k: dh, a: go, lda: d, b: q + 2 * d, ldb: 3 * d, c: dP, ldc: t)
                    if let m { for k in 0..<t * t { dP[k] *= m[k] * keep } }
                    // Softmax backward in place: dS = P (dP - rowsum(dP P)); masked entries have P = 0.
                    tandem_softmax_backward_block(pm, dP, t, causal ? 1 : 0)
                    // dQ += scale dS K;  dK += scale dS^T Q
                    BLAS.gemm(
                        m: t, n: dh, k: t, alpha: scale, a: dP, lda: t, b: q + d, ldb: 3 * d, beta: 1, c: gqh,
                        ldc: 3 * d)
                    BLAS.gemm(
                        transA: true, m: t, n: dh, k: t, alpha: scale, a: dP, lda: t, b: q, ldb: 3 * d, beta: 1,
                        c: gqh + d, ldc: 3 * d)
                }
            }
            withExtendedLifetime((probabilities, scratch)) {}
        }
    }
}
