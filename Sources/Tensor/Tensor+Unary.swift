import CKernels
import Glibc

// Elementwise functions of one tensor. Each writes its forward loop and, next to it, the loop
// that pushes the gradient back; both run over raw pointers so they vectorize.

extension Tensor {
    @inline(__always) private func mapped(_ f: (Float) -> Float) -> Tensor {
        let y = Tensor.empty(shape)
        let ys = y.data
        let xs = data
        for i in 0..<count { ys[i] = f(xs[i]) }
        return y
    }

    /// e^x.
    public func exp() -> Tensor {
        let y = mapped { Glibc.expf($0) }
        let n = count
        return Tensor.record(y, "exp", [self]) { out, g in
            let ys = out.data
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] * ys[i] }
        }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        let y = mapped { Glibc.logf($0) }
        let n = count
        let xs = data
        return Tensor.record(y, "log", [self]) { _, g in
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] / xs[i] }
        }
    }

    /// Square root.
    public func sqrt() -> Tensor {
        let y = mapped { $0.squareRoot() }
        let n = count
        return Tensor.record(y, "sqrt", [self]) { out, g in
            let ys = out.data
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] * 0.5 / ys[i] }
        }
    }

    /// x raised to a constant power. The gradient of x^0 is 0 everywhere, x = 0 included
    /// (0 * 0^-1 would be NaN; PyTorch masks it to 0 too).
    public func pow(_ p: Float) -> Tensor {
        let y = mapped { Glibc.powf($0, p) }
        let n = count
        let xs = data
        return Tensor.record(y, "pow", [self]) { _, g in
            let gx = self.gradData()
            guard p != 0 else { return }
            for i in 0..<n { gx[i] += g[i] * p * Glibc.powf(xs[i], p - 1) }
        }
    }

    /// Values limited to [min, max]; the gradient passes where min <= x <= max (as PyTorch).
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        precondition(lo <= hi, "clamp: min \(lo) is greater than max \(hi)")
        let y = mapped { Swift.min(Swift.max($0, lo), hi) }
        let n = count
        let xs = data
        return Tensor.record(y, "clamp", [self]) { _, g in
            let gx = self.gradData()
            for i in 0..<n { gx[i] += (xs[i] >= lo && xs[i] <= hi) ? g[i] : 0 }
        }
    }

    /// max(x, 0).
    public func relu() -> Tensor {
        let y = Tensor.empty(shape)
        let (x, out) = (data, y.data)
        Parallel.forEachBlock(count, block: Parallel.elementBlock) { tandem_relu(x + $0, out + $0, $1 - $0) }
        return Tensor.record(y, "relu", [self]) { _, g in
            let gx = self.gradData()
            Parallel.forEachBlock(self.count, block: Parallel.elementBlock) {
                tandem_relu_backward(x + $0, g + $0, gx + $0, $1 - $0)
            }
        }
    }

    /// 1 / (1 + e^-x), computed without overflow.
    public func sigmoid() -> Tensor {
        let y = mapped { x in
            x >= 0
                ? 1 / (1 + Glibc.expf(-x))
                : {
                    let e = Glibc.expf(x)
                    return e / (1 + e)
                }()
        }
        let n = count
        return Tensor.record(y, "sigmoid", [self]) { out, g in
            let ys = out.data
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] * ys[i] * (1 - ys[i]) }
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        let y = mapped { Glibc.tanhf($0) }
        let n = count
        return Tensor.record(y, "tanh", [self]) { out, g in
            let ys = out.data
            let gx = self.gradData()
            for i in 0..<n { gx[i] += g[i] * (1 - ys[i] * ys[i]) }
        }
    }

    /// GELU with the erf form (PyTorch's default): x * Phi(x). A C kernel with a branch-free erf
    /// (absolute error 1.5e-7) that vectorizes: glibc's scalar erff cost 14-18% of the
    /// transformer workload.
    public func gelu() -> Tensor {
        let y = Tensor.empty(shape)
        let (n, xs, out) = (count, data, y.data)
        Parallel.forEachBlock(n, block: Parallel.elementBlock) { tandem_gelu(xs + $0, out + $0, $1 - $0) }
        return Tensor.record(y, "gelu", [self]) { _, g in
            let gx = self.gradData()
            Parallel.forEachBlock(n, block: Parallel.elementBlock) {
                tandem_gelu_backward(xs + $0, g + $0, gx + $0, $1 - $0)
            }
        }
    }

    /// ELU: x for x > 0, alpha * (e^x - 1) otherwise.
    public func elu(alpha: Float = 1) -> Tensor {
        let y = mapped { $0 > 0 ? $0 : alpha * (Glibc.expf($0) - 1) }
        let n = count
        let xs = data
        return Tensor.record(y, "elu", [self]) { out, g in
            let ys = out.data
            let gx = self.gradData()
            for i in 0..<n { gx[i] += xs[i] > 0 ? g[i] : g[i] * (ys[i] + alpha) }
        }
    }

    /// Inverted dropout with a given 0/1 mask: x * mask / (1 - p).
    public func dropout(mask: Tensor, p: Float) -> Tensor {
        precondition(mask.shape == shape, "dropout: mask shape \(mask.shape) differs from input shape \(shape)")
        precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
        let scale = 1 / (1 - p)
        let n = count
        let xs = data
        let ms = mask.data
        let y = Tensor.empty(shape)
        let ys = y.data
        for i in 0..<n { ys[i] = xs[i] * ms[i] * scale }
        return Tensor.record(y, "dropout", [self]) { _, g in
            // Reading mask.data here keeps the mask alive until backward (it is not a parent).
            let gx = self.gradData()
            let ms = mask.data
            for i in 0..<n { gx[i] += g[i] * ms[i] * scale }
        }
    }
}
