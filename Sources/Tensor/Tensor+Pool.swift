/// 2-D max and average pooling over NCHW.
extension Tensor {
    /// Max over each kernel x kernel window; the gradient goes to the window's (first) maximum.
    /// A NaN in a window wins (the last NaN, as PyTorch's kernel: `val > max || isnan(val)`).
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let s = stride ?? kernel
        let outShape = checked {
            try Shapes.pool2d(shape, kernel: kernel, stride: s, padding: padding, op: "max_pool2d")
        }
        let geo = PoolGeometry(
            planes: shape[0] * shape[1], h: shape[2], w: shape[3], ho: outShape[2], wo: outShape[3],
            kernel: kernel, stride: s, padding: padding)
        let y = Tensor.empty(outShape)
        // Flat input index of each maximum, in a buffer the backward closure keeps alive.
        let arg = IndexBuffer(count: y.count)
        // The common case without per-element bounds or NaN checks: one vectorized scan for NaN
        // first (NaN-aware compares in the 2x2 loop cost 14% of the cnn workload, measured).
        // Planes in fixed blocks on Tandem's threads: a window and its gradient stay in one plane.
        let (xs, ys, at) = (data, y.data, arg.base)
        let planeBlock = Swift.max(1, Parallel.elementBlock / Swift.max(1, geo.h * geo.w))
        if kernel == 2 && s == 2 && padding == 0 && !VectorOps.containsNaN(data, count) {
            Parallel.forEachBlock(geo.planes, block: planeBlock) { geo.max2x2(xs, ys, at, planes: $0..<$1) }
        } else {
            Parallel.forEachBlock(geo.planes, block: planeBlock) { geo.maxWindows(xs, ys, at, planes: $0..<$1) }
        }
        let perPlane = geo.ho * geo.wo
        return Tensor.record(y, "max_pool2d", [self]) { _, g in
            let gx = self.gradData()
            let at = arg.base
            Parallel.forEachBlock(geo.planes, block: planeBlock) { first, end in
                for o in first * perPlane..<end * perPlane { gx[Int(at[o])] += g[o] }
            }
        }
    }

    /// Mean over each kernel x kernel window (padding counts as zeros, as PyTorch's default).
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let s = stride ?? kernel
        let outShape = checked {
            try Shapes.pool2d(shape, kernel: kernel, stride: s, padding: padding, op: "avg_pool2d")
        }
        let (planes, h, w, ho, wo) = (shape[0] * shape[1], shape[2], shape[3], outShape[2], outShape[3])
        let inv = 1 / Float(kernel * kernel)
        let y = Tensor.empty(outShape)
        // Visits every (output index, input index) pair of every window.
        func windows(_ body: (Int, Int) -> Void) {
            for pl in 0..<planes {
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        let o = (pl * ho + oh) * wo + ow
                        for ki in 0..<kernel {
                            let ih = oh * s - padding + ki
                            if ih < 0 || ih >= h { continue }
                            for kj in 0..<kernel {
                                let iw = ow * s - padding + kj
                                if iw >= 0 && iw < w { body(o, (pl * h + ih) * w + iw) }
                            }
                        }
                    }
                }
            }
        }
        let ys = y.data
        let xs = data
        ys.initialize(repeating: 0, count: y.count)
        windows { o, i in ys[o] += xs[i] * inv }
        return Tensor.record(y, "avg_pool2d", [self]) { _, g in
            let gx = self.gradData()
            windows { o, i in gx[i] += g[o] * inv }
        }
    }
}

/// Int32 indices saved by an op for its backward pass.
final class IndexBuffer {
    let base: UnsafeMutablePointer<Int32>
    init(count: Int) { base = .allocate(capacity: Swift.max(count, 1)) }
    deinit { base.deallocate() }
}

/// Planes, input and output sizes and the window of a 2-D pool, with its max loops.
struct PoolGeometry {
    let planes, h, w, ho, wo, kernel, stride, padding: Int

    /// Keeps `c` as the window's maximum if it is larger, or NaN.
    @inline(__always) static func consider(
        _ c: Int, _ xs: UnsafeMutablePointer<Float>, _ k: inout Int, _ best: inout Float
    ) {
        if xs[c] > best || xs[c].isNaN {
            k = c
            best = xs[c]
        }
    }

    /// `consider` for input known to hold no NaN.
    @inline(__always) static func considerFinite(
        _ c: Int, _ xs: UnsafeMutablePointer<Float>, _ k: inout Int, _ best: inout Float
    ) {
        if xs[c] > best {
            k = c
            best = xs[c]
        }
    }

    /// 2x2 windows with stride 2 and no padding, for input without NaN.
    func max2x2(
        _ xs: UnsafeMutablePointer<Float>, _ ys: UnsafeMutablePointer<Float>, _ at: UnsafeMutablePointer<Int32>,
        planes range: Range<Int>
    ) {
        for pl in range {
            for oh in 0..<ho {
                let r0 = (pl * h + 2 * oh) * w
                let r1 = r0 + w
                let o = (pl * ho + oh) * wo
                for ow in 0..<wo {
                    var k = r0 + 2 * ow
                    var best = xs[k]
                    PoolGeometry.considerFinite(r0 + 2 * ow + 1, xs, &k, &best)
                    PoolGeometry.considerFinite(r1 + 2 * ow, xs, &k, &best)
                    PoolGeometry.considerFinite(r1 + 2 * ow + 1, xs, &k, &best)
                    ys[o + ow] = best
                    at[o + ow] = Int32(k)
                }
            }
        }
    }

    /// Any window, stride and padding (padding never wins).
    func maxWindows(
        _ xs: UnsafeMutablePointer<Float>, _ ys: UnsafeMutablePointer<Float>, _ at: UnsafeMutablePointer<Int32>,
        planes range: Range<Int>
    ) {
        for pl in range {
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var best = -Float.infinity
                    var k = -1
                    for ki in 0..<kernel {
                        let ih = oh * stride - padding + ki
                        if ih < 0 || ih >= h { continue }
                        for kj in 0..<kernel {
                            let iw = ow * stride - padding + kj
                            if iw < 0 || iw >= w { continue }
                            let idx = (pl * h + ih) * w + iw
                            if k < 0 {
                                k = idx
                                best = xs[idx]
                            } else {
                                PoolGeometry.consider(idx, xs, &k, &best)
                            }
                        }
                    }
                    let o = (pl * ho + oh) * wo + ow
                    ys[o] = best
                    at[o] = Int32(k)
                }
            }
        }
    }
}
