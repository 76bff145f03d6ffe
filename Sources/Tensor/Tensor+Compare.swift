extension Tensor {
    /// Index of the largest element along `axis` (first on ties), as Int.
    public func argmax(alongAxis axis: Int = -1) -> [Int] {
        let s = AxisSplit(shape, checked { try Shapes.axis(axis, rank: rank, op: "argmax") })
        precondition(s.extent > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        var out = [Int](repeating: 0, count: s.outer * s.inner)
        let xs = data
        Tensor.forEachLine(s) { base, step in
            var best = xs[base]
            var at = 0
            for l in 1..<s.extent where xs[base + l * step] > best {
                best = xs[base + l * step]
                at = l
            }
            out[(base / (s.extent * s.inner)) * s.inner + base % s.inner] = at
        }
        return out
    }

    // Elementwise predicate with broadcasting; 1 where true, 0 elsewhere, no gradient.
    private func compared(_ other: Tensor, _ op: String, _ pred: (Float, Float) -> Bool) -> Tensor {
        let p = BroadcastPlan(shape, other.shape, op: op)
        let y = Tensor.empty(p.shape)
        let ys = y.data
        let xa = data
        let xb = other.data
        p.forEach { o, i, j in ys[o] = pred(xa[i], xb[j]) ? 1 : 0 }
        y.op = op
        return y
    }

    /// 1 where self > other, else 0 (broadcasting; not differentiable).
    public func isGreater(than other: Tensor) -> Tensor { compared(other, "greater", >) }
    /// 1 where self < other, else 0.
    public func isLess(than other: Tensor) -> Tensor { compared(other, "less", <) }
    /// 1 where self == other, else 0.
    public func isEqual(to other: Tensor) -> Tensor { compared(other, "equal", ==) }
}
