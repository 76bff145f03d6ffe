import Glibc

extension Tensor {
    /// Softmax along `axis` (max-shifted, so large logits do not overflow).
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let s = AxisSplit(shape, checked { try Shapes.axis(axis, rank: rank, op: "softmax") })
        let y = Tensor.empty(shape)
        Tensor.softmaxRows(data, y.data, s, log: false)
        return Tensor.record(y, "softmax", [self]) { out, g in
            // dx = y * (g - sum(g * y)) along the axis.
            let ys = out.data
            let gx = self.gradData()
            Tensor.forEachLine(s) { base, step in
                var dot: Float = 0
                for l in 0..<s.extent { dot += g[base + l * step] * ys[base + l * step] }
                for l in 0..<s.extent {
                    let k = base + l * step
                    gx[k] += ys[k] * (g[k] - dot)
                }
            }
        }
    }

    /// log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max))).
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let s = AxisSplit(shape, checked { try Shapes.axis(axis, rank: rank, op: "log_softmax") })
        let y = Tensor.empty(shape)
        Tensor.softmaxRows(data, y.data, s, log: true)
        return Tensor.record(y, "log_softmax", [self]) { out, g in
            // dx = g - softmax * sum(g) along the axis.
            let ys = out.data
            let gx = self.gradData()
            Tensor.forEachLine(s) { base, step in
                var total: Float = 0
                for l in 0..<s.extent { total += g[base + l * step] }
                for l in 0..<s.extent {
                    let k = base + l * step
                    gx[k] += g[k] - Glibc.expf(ys[k]) * total
                }
            }
        }
    }

    /// Calls `body(firstIndex, stride)` for every line along the split axis.
    @inline(__always) static func forEachLine(_ s: AxisSplit, _ body: (Int, Int) -> Void) {
        for o in 0..<s.outer { for i in 0..<s.inner { body(o * s.extent * s.inner + i, s.inner) } }
    }

    static func softmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ s: AxisSplit, log: Bool) {
        forEachLine(s) { base, step in
            var m = -Float.infinity
            for l in 0..<s.extent { m = Swift.max(m, x[base + l * step]) }
            var total: Float = 0
            for l in 0..<s.extent {
                let e = Glibc.expf(x[base + l * step] - m)
                y[base + l * step] = e
                total += e
            }
            if log {
                let lse = m + Glibc.logf(total)
                for l in 0..<s.extent { y[base + l * step] = x[base + l * step] - lse }
            } else {
                let inv = 1 / total
                for l in 0..<s.extent { y[base + l * step] *= inv }
            }
        }
    }
}
