extension Tensor {
    /// The same values in another shape (shares storage); one extent may be -1 (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var s = newShape
        if let hole = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(
                known > 0 && count % known == 0,
                "reshape: cannot infer -1 in \(newShape) for shape \(shape) (\(count) elements)")
            s[hole] = count / known
        }
        precondition(
            s.allSatisfy { $0 >= 0 } && s.elementCount == count,
            "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
        let y = Tensor(shape: s, storage: storage)
        let n = count
        return Tensor.record(y, "reshape", [self]) { _, g in
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] }
        }
    }

    /// Flattens all axes after the first: [N, ...] -> [N, rest].
    public func flattened() -> Tensor {
        precondition(rank >= 1, "flatten: needs rank >= 1, got shape \(shape)")
        return reshaped(to: [shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// Axes reordered: output axis i is input axis `axes[i]` (a copy).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.sorted() == Array(0..<rank),
            "permute: \(axes) is not a permutation of the axes of shape \(shape)")
        let outShape = axes.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let srcStrides = axes.map { inStrides[$0] }
        let y = Tensor.empty(outShape)
        Tensor.permuteCopy(data, into: y.data, outShape: outShape, srcStrides: srcStrides, accumulate: false)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.record(y, "permute", [self]) { _, g in
            // Gradient: permute back, i.e. walk the input's layout reading the output's.
            var outStrides = [Int](repeating: 1, count: outShape.count)
            for i in stride(from: outShape.count - 2, through: 0, by: -1) {
                outStrides[i] = outStrides[i + 1] * outShape[i + 1]
            }
            Tensor.permuteCopy(
                g, into: self.gradData(), outShape: self.shape,
                srcStrides: inverse.map { outStrides[$0] }, accumulate: true)
        }
    }

    /// Swaps the last two axes (a matrix transpose for rank 2).
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transpose: needs rank >= 2, got shape \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    // dst (contiguous, outShape) [+]= src read with srcStrides.
    static func permuteCopy(
        _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
        outShape: [Int], srcStrides: [Int], accumulate: Bool
    ) {
        let r = outShape.count
        let n = outShape.elementCount
        if n == 0 { return }
        if r == 0 {
            if accumulate { dst[0] += src[0] } else { dst[0] = src[0] }
            return
        }
        let inner = outShape[r - 1]
        let innerStride = srcStrides[r - 1]
        var idx = [Int](repeating: 0, count: r)
        var off = 0
        var o = 0
        while o < n {
            if accumulate {
                for j in 0..<inner { dst[o + j] += src[off + j * innerStride] }
            } else {
                for j in 0..<inner { dst[o + j] = src[off + j * innerStride] }
            }
            o += inner
            var ax = r - 2
            while ax >= 0 {
                idx[ax] += 1
                off += srcStrides[ax]
                if idx[ax] < outShape[ax] { break }
                off -= srcStrides[ax] * outShape[ax]
                idx[ax] = 0
                ax -= 1
            }
        }
    }

    /// Rows `range` of the leading axis (a view sharing storage).
    public subscript(range: Range<Int>) -> Tensor {
        precondition(
            rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
            "slice: rows \(range) outside leading axis of shape \(shape)")
        let row = shape.dropFirst().reduce(1, *)
        let y = Tensor(
            shape: [range.count] + shape.dropFirst(),
            storage: TensorStorage(viewing: storage, offset: range.lowerBound * row, count: range.count * row))
        let start = range.lowerBound * row
        let n = range.count * row
        return Tensor.record(y, "slice", [self]) { _, g in
            let gx = self.gradData() + start
            for i in 0..<n { gx[i] += g[i] }
        }
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenating(_ parts: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!parts.isEmpty, "concat: no tensors to join")
        let first = parts[0].shape
        let ax = checked { try Shapes.axis(axis, rank: first.count, op: "concat") }
        for p in parts {
            var a = p.shape
            var b = first
            precondition(a.count == b.count, "concat: shapes \(first) and \(p.shape) differ in rank")
            a[ax] = 0
            b[ax] = 0
            precondition(a == b, "concat: shapes \(first) and \(p.shape) differ off axis \(ax)")
        }
        var outShape = first
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let outer = first[..<ax].reduce(1, *)
        let inner = first[(ax + 1)...].reduce(1, *)
        let chunks = parts.map { $0.shape[ax] * inner }
        let rowLen = chunks.reduce(0, +)
        let y = empty(outShape)
        var col = 0
        for (p, c) in zip(parts, chunks) {
            for o in 0..<outer { (y.data + o * rowLen + col).update(from: p.data + o * c, count: c) }
            col += c
        }
        return record(y, "concat", parts) { _, g in
            var col = 0
            for (p, c) in zip(parts, chunks) {
                if p.requiresGrad {
                    let gp = p.gradData()
                    for o in 0..<outer { for j in 0..<c { gp[o * c + j] += g[o * rowLen + col + j] } }
                }
                col += c
            }
        }
    }
}

extension Tensor {
    /// Elements `range` along `axis` (a copy), e.g. one gate's columns or one time step.
    public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = checked { try Shapes.axis(axis, rank: rank, op: "slice") }
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[ax],
            "slice: range \(range) outside axis \(ax) of shape \(shape)")
        let s = AxisSplit(shape, ax)
        var outShape = shape
        outShape[ax] = range.count
        let chunk = range.count * s.inner
        let from = range.lowerBound * s.inner
        let row = s.extent * s.inner
        let y = Tensor.empty(outShape)
        for o in 0..<s.outer { (y.data + o * chunk).update(from: data + o * row + from, count: chunk) }
        return Tensor.record(y, "slice_axis", [self]) { _, g in
            let gx = self.gradData()
            for o in 0..<s.outer {
                let src = g + o * chunk
                let dst = gx + o * row + from
                for j in 0..<chunk { dst[j] += src[j] }
            }
        }
    }
}
