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
    /// Each product is one batched matmul over every (sample, head) reading the packed rows by
    /// strides (`BLAS.batchedGemm`): no transposes, no copies. The causal mask is applied inside
    /// the softmax pass (masked entries become 0). `dropoutMask` ([N, H, T, T] of 0/1, nil for
    /// none) drops attention weights with inverted scaling, as PyTorch's attention dropout.
    public static func selfAttention(_ qkv: Tensor, heads: Int, causal: Bool, dropoutMask: Tensor? = nil, p: Float = 0)
        -> Tensor
    {
        precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "attention: qkv \(qkv.shape), \(heads) heads")
        let n = qkv.shape[0]
        let t = qkv.shape[1]
        let d = qkv.shape[2] / 3
        let dh = d / heads
        let scale = 1 / Float(dh).squareRoot()
        let blocks = n * heads
        // Layouts over (sample, head): q, k and v inside the packed rows; t x t blocks; outputs.
        let packed = StridedMatrices(dims: [n, heads, t, dh], strides: [t * 3 * d, dh, 3 * d, 1])
        let square = StridedMatrices(dims: [n, heads, t, t], strides: [heads * t * t, t * t, t, 1])
        let rows = StridedMatrices(dims: [n, heads, t, dh], strides: [t * d, dh, d, 1])
        let probabilities = Tensor.empty([n, heads, t, t])  // softmax output, kept for backward
        let src = qkv.data
        let probs = probabilities.data
        BLAS.batchedGemm(src, packed, src + d, packed.transposed, probs, square, alpha: scale)
        let perBlock = Swift.max(1, Parallel.elementBlock / (t * t))  // (batch, head) blocks per thread block
        Parallel.forEachBlock(blocks, block: perBlock) { s, e in  // masked -> 0
            for b in s..<e { tandem_softmax_block(probs + b * t * t, t, causal ? 1 : 0) }
        }
        let keep = 1 / (1 - p)
        // The weights that multiply the values: the probabilities, through the dropout mask if any
        // (kept for backward, as the probabilities are).
        var w = probabilities
        if let mask = dropoutMask {
            w = Tensor.empty([n, heads, t, t])
            for k in 0..<blocks * t * t { w.data[k] = probs[k] * mask.data[k] * keep }
        }
        let weights = w
        let y = empty([n, t, d])
        BLAS.batchedGemm(weights.data, square, src + 2 * d, packed, y.data, rows)
        return record(y, "attention", [qkv]) { _, g in
            let gq = qkv.gradData()
            let dP = Tensor.empty([n, heads, t, t])
            // dV += W^T dO;  dW = dO V^T (then through the dropout mask)
            BLAS.batchedGemm(weights.data, square.transposed, g, rows, gq + 2 * d, packed, beta: 1)
            BLAS.batchedGemm(g, rows, src + 2 * d, packed.transposed, dP.data, square)
            if let mask = dropoutMask { for k in 0..<blocks * t * t { dP.data[k] *= mask.data[k] * keep } }
            // Softmax backward in place: dS = P (dP - rowsum(dP P)); masked entries have P = 0.
            let dPs = dP.data
            Parallel.forEachBlock(blocks, block: perBlock) { s, e in
                for b in s..<e { tandem_softmax_backward_block(probs + b * t * t, dPs + b * t * t, t, causal ? 1 : 0) }
            }
            // dQ += scale dS K;  dK += scale dS^T Q
            BLAS.batchedGemm(dP.data, square, src + d, packed, gq, packed, alpha: scale, beta: 1)
            BLAS.batchedGemm(dP.data, square.transposed, src, packed, gq + d, packed, alpha: scale, beta: 1)
            withExtendedLifetime(probabilities) {}
        }
    }
}
