/// 2-D max and average pooling over NCHW.
extension Tensor {
    /// Max over each kernel x kernel window; the gradient goes to the window's (first) maximum.
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let s = stride ?? kernel
        let outShape = checked { try Shapes.pool2d(shape, kernel: kernel, stride: s, padding: padding, op: "max_pool2d") }
        let (planes, h, w, ho, wo) = (shape[0] * shape[1], shape[2], shape[3], outShape[2], outShape[3])
        let y = Tensor.empty(outShape), ys = y.data, xs = data
        var arg = [Int32](repeating: 0, count: y.count)   // flat input index of each maximum
        for pl in 0..<planes {
            for oh in 0..<ho { for ow in 0..<wo {
                var best = -Float.infinity, at = -1
                for ki in 0..<kernel {
                    let ih = oh * s - padding + ki
                    if ih < 0 || ih >= h { continue }
                    for kj in 0..<kernel {
                        let iw = ow * s - padding + kj
                        if iw < 0 || iw >= w { continue }
                        let k = (pl * h + ih) * w + iw
                        if xs[k] > best || at < 0 { best = xs[k]; at = k }
                    }
                }
                let o = (pl * ho + oh) * wo + ow
                ys[o] = best; arg[o] = Int32(at)
            } }
        }
        let n = y.count
        return Tensor.record(y, "max_pool2d", [self]) { out in
            let g = out.grad!.data, gx = self.gradData()
            for o in 0..<n { gx[Int(arg[o])] += g[o] }
        }
    }

    /// Mean over each kernel x kernel window (padding counts as zeros, as PyTorch's default).
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let s = stride ?? kernel
        let outShape = checked { try Shapes.pool2d(shape, kernel: kernel, stride: s, padding: padding, op: "avg_pool2d") }
        let (planes, h, w, ho, wo) = (shape[0] * shape[1], shape[2], shape[3], outShape[2], outShape[3])
        let inv = 1 / Float(kernel * kernel)
        let y = Tensor.empty(outShape)
        // Visits every (output index, input index) pair of every window.
        func windows(_ body: (Int, Int) -> Void) {
            for pl in 0..<planes { for oh in 0..<ho { for ow in 0..<wo {
                let o = (pl * ho + oh) * wo + ow
                for ki in 0..<kernel {
                    let ih = oh * s - padding + ki
                    if ih < 0 || ih >= h { continue }
                    for kj in 0..<kernel {
                        let iw = ow * s - padding + kj
                        if iw >= 0 && iw < w { body(o, (pl * h + ih) * w + iw) }
                    }
                }
            } } }
        }
        let ys = y.data, xs = data
        ys.initialize(repeating: 0, count: y.count)
        windows { o, i in ys[o] += xs[i] * inv }
        return Tensor.record(y, "avg_pool2d", [self]) { out in
            let g = out.grad!.data, gx = self.gradData()
            windows { o, i in gx[i] += g[o] * inv }
        }
    }
}
