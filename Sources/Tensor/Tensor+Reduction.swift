/// An axis seen as (outer, extent, inner): the layout every single-axis reduction works in.
struct AxisSplit {
    let outer: Int, extent: Int, inner: Int
    init(_ shape: [Int], _ axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        extent = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }
}

extension Tensor {
    /// Sum over one axis.
    public func sum(alongAxis axis: Int, keepingDim: Bool = false) -> Tensor {
        let ax = checked { try Shapes.axis(axis, rank: rank, op: "sum") }
        let s = AxisSplit(shape, ax)
        var outShape = shape
        if keepingDim { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let y = Tensor(zeros: outShape)
        let ys = y.data
        let xs = data
        if s.inner == 1 {  // rows: vectorized partial sums
            for o in 0..<s.outer { ys[o] = Kernels.sum(xs + o * s.extent, s.extent) }
        } else {
            for o in 0..<s.outer {
                let yo = ys + o * s.inner
                for l in 0..<s.extent {
                    let xo = xs + (o * s.extent + l) * s.inner
                    for i in 0..<s.inner { yo[i] += xo[i] }
                }
            }
        }
        return Tensor.record(y, "sum", [self]) { _, g in
            let gx = self.gradData()
            for o in 0..<s.outer {
                let go = g + o * s.inner
                for l in 0..<s.extent {
                    let gxo = gx + (o * s.extent + l) * s.inner
                    for i in 0..<s.inner { gxo[i] += go[i] }
                }
            }
        }
    }

    /// Sum over several axes.
    public func sum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        reduce(axes, keepingDims) { $0.sum(alongAxis: $1, keepingDim: true) }
    }

    /// Mean over one axis.
    public func mean(alongAxis axis: Int, keepingDim: Bool = false) -> Tensor {
        let ax = checked { try Shapes.axis(axis, rank: rank, op: "mean") }
        return sum(alongAxis: ax, keepingDim: keepingDim) * (1 / Float(shape[ax]))
    }

    /// Mean over several axes.
    public func mean(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        reduce(axes, keepingDims) { $0.mean(alongAxis: $1, keepingDim: true) }
    }

    /// Maximum over one axis; the gradient goes to the first maximal element.
    public func max(alongAxis axis: Int, keepingDim: Bool = false) -> Tensor {
        let ax = checked { try Shapes.axis(axis, rank: rank, op: "max") }
        precondition(shape[ax] > 0, "max: axis \(axis) of shape \(shape) is empty")
        let s = AxisSplit(shape, ax)
        var outShape = shape
        if keepingDim { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let y = Tensor.empty(outShape)
        let ys = y.data
        let xs = data
        var arg = [Int32](repeating: 0, count: s.outer * s.inner)
        for o in 0..<s.outer {
            for i in 0..<s.inner {
                var best = xs[o * s.extent * s.inner + i]
                var at: Int32 = 0
                for l in 1..<s.extent {
                    let v = xs[(o * s.extent + l) * s.inner + i]
                    if v > best || (v != v && best == best) {
                        best = v
                        at = Int32(l)
                    }
                }
                ys[o * s.inner + i] = best
                arg[o * s.inner + i] = at
            }
        }
        return Tensor.record(y, "max", [self]) { _, g in
            let gx = self.gradData()
            for o in 0..<s.outer {
                for i in 0..<s.inner {
                    gx[(o * s.extent + Int(arg[o * s.inner + i])) * s.inner + i] += g[o * s.inner + i]
                }
            }
        }
    }

    /// Maximum over several axes.
    public func max(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        reduce(axes, keepingDims) { $0.max(alongAxis: $1, keepingDim: true) }
    }

    /// Sum of all elements (a scalar), accumulated in Float64.
    public func sum() -> Tensor {
        let n = count
        let y = Tensor(scalar: Float(Kernels.sumDouble(data, n)))
        return Tensor.record(y, "sum_all", [self]) { _, g in
            let g = g[0]
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g }
        }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Largest element (a scalar).
    public func max() -> Tensor { reshaped(to: [count]).max(alongAxis: 0) }

    // Applies a keep-dims single-axis reduction to each axis, last first, then drops them if asked.
    private func reduce(_ axes: [Int], _ keep: Bool, _ one: (Tensor, Int) -> Tensor) -> Tensor {
        let norm = axes.map { a in checked { try Shapes.axis(a, rank: rank, op: "reduce") } }
        precondition(Set(norm).count == norm.count, "reduce: repeated axis in \(axes) for shape \(shape)")
        var t = self
        for a in norm.sorted(by: >) { t = one(t, a) }
        if keep { return t }
        return t.reshaped(to: shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element))
    }
}
