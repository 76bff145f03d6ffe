import CKernels
import Glibc

/// A batch's per-channel statistics, as batch normalization computes them.
public struct ChannelStatistics: Sendable {
    /// Mean per channel.
    public var mean: [Float]
    /// Biased variance per channel (divided by the count, as the forward pass normalizes with).
    public var variance: [Float]
    /// Values per channel (batch x spatial positions).
    public var count: Int

    /// Statistics of `count` values per channel.
    public init(mean: [Float], variance: [Float], count: Int) {
        self.mean = mean
        self.variance = variance
        self.count = count
    }
}

extension Tensor {
    /// Batch normalization of an [N, C, ...] tensor over every axis but the channel axis 1, then
    /// per-channel scale and shift. With `statistics` nil the batch's own mean and biased variance
    /// are used and returned (training); otherwise the given ones (evaluation). One fused op: the
    /// backward pass is the closed form, not a chain of elementwise nodes.
    ///
    /// `allreduce` makes the batch span several processes (SyncBatchNorm): it sums a vector over
    /// them in place, once in the forward pass (count, sums, squares) and once in the backward
    /// pass (the two gradient sums per channel). The returned statistics are then the global ones
    /// with this process's count.
    public func batchNormalized(
        weight: Tensor, bias: Tensor, eps: Float, statistics given: (mean: Tensor, variance: Tensor)? = nil,
        allreduce: ((inout [Double]) -> Void)? = nil
    ) -> (out: Tensor, statistics: ChannelStatistics) {
        precondition(rank >= 2, "batch_norm: needs [N, C, ...], got \(shape)")
        let channels = shape[1]
        precondition(weight.count == channels && bias.count == channels, "batch_norm: \(channels) channels")
        let n = shape[0]
        let spatial = shape.dropFirst(2).reduce(1, *)
        let m = n * spatial
        var (mean, variance) =
            given.map { ($0.mean.scalars, $0.variance.scalars) }
            ?? Tensor.channelMoments(data, n: n, channels: channels, spatial: spatial)
        var total = m
        if given == nil, let allreduce {
            total = Tensor.globalMoments(count: m, mean: &mean, variance: &variance, allreduce: allreduce)
        }
        let invStd = variance.map { 1 / sqrtf($0 + eps) }
        let y = Tensor.empty(shape)
        let x = data
        let out = y.data
        let w = weight.data
        let b = bias.data
        let scale = (0..<channels).map { invStd[$0] * w[$0] }
        let shift = (0..<channels).map { b[$0] - mean[$0] * scale[$0] }
        Tensor.forEachImageBlock(n, channels * spatial) { i0, i1 in
            let offset = i0 * channels * spatial
            tandem_channel_affine(x + offset, out + offset, i1 - i0, channels, spatial, scale, shift)
        }
        let stats = ChannelStatistics(mean: mean, variance: variance, count: m)
        let usesBatch = given == nil
        let result = Tensor.record(y, "batch_norm", [self, weight, bias]) { _, g in
            // Per channel: sum(dy) and sum(dy * xhat), then
            // batch statistics: dx = w * invstd / M * (M dy - sum(dy) - xhat sum(dy xhat));
            // given statistics: dx = w * invstd * dy.
            var sums = Tensor.batchNormGradientSums(g, x, n: n, channels: channels, spatial: spatial, mean, invStd)
            // Scale and shift gradients are this process's own (data parallelism adds them up).
            if weight.requiresGrad { weight.addToGrad(sums[channels...]) }
            if bias.requiresGrad { bias.addToGrad(sums[..<channels]) }
            if usesBatch, let allreduce { allreduce(&sums) }
            let sumG = sums[..<channels]
            let sumGX = sums[channels...]
            guard self.requiresGrad else { return }
            let gx = self.gradData()
            let inverseCount = 1 / Float(total)
            // gx += k (g - meanG - (x - mean) slope); with given statistics only the first term.
            let k = (0..<channels).map { w[$0] * invStd[$0] }
            let zeros = [Float](repeating: 0, count: channels)
            let meanG = usesBatch ? (0..<channels).map { Float(sumG[$0]) * inverseCount } : zeros
            let slope =
                usesBatch ? (0..<channels).map { invStd[$0] * Float(sumGX[channels + $0]) * inverseCount } : zeros
            Tensor.forEachImageBlock(n, channels * spatial) { i0, i1 in
                let o = i0 * channels * spatial
                tandem_batch_norm_backward_input(
                    g + o, x + o, gx + o, i1 - i0, channels, spatial, k, meanG, mean, slope)
            }
        }
        return (result, stats)
    }

    /// Per channel c: sum(g) in [c] and sum(g * xhat) in [channels + c] of g and x [N, C, S].
    static func batchNormGradientSums(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, n: Int, channels: Int, spatial: Int, _ mean: [Float],
        _ invStd: [Float]
    ) -> [Double] {
        var sums = [Double](repeating: 0, count: 2 * channels)
        sums.withUnsafeMutableBufferPointer { out in
            forEachChannelBlock(channels, n * spatial) { c0, c1 in
                tandem_batch_norm_backward_sums(g, x, n, channels, spatial, c0, c1, mean, invStd, out.baseAddress)
            }
        }
        return sums
    }

    /// Adds `values` (one per element, in order) to this tensor's gradient.
    func addToGrad(_ values: ArraySlice<Double>) {
        let grad = gradData()
        for (i, v) in values.enumerated() { grad[i] += Float(v) }
    }

    /// Per-channel passes on threads: blocks of whole channels (each channel's sums in the same
    /// order whatever the thread count), about `Parallel.elementBlock` values each.
    static func forEachChannelBlock(_ channels: Int, _ perChannel: Int, _ body: (Int, Int) -> Void) {
        Parallel.forEachBlock(channels, block: Swift.max(1, Parallel.elementBlock / Swift.max(perChannel, 1)), body)
    }

    /// Elementwise passes over [N, ...] on threads: blocks of whole images.
    static func forEachImageBlock(_ images: Int, _ perImage: Int, _ body: (Int, Int) -> Void) {
        Parallel.forEachBlock(images, block: Swift.max(1, Parallel.elementBlock / Swift.max(perImage, 1)), body)
    }

    /// SyncBatchNorm's statistics: this process's count, mean and variance become the global ones
    /// through one allreduce of the count, the sums and the sums of squares (those about zero,
    /// from the local two-pass moments). Returns the global count.
    static func globalMoments(
        count m: Int, mean: inout [Float], variance: inout [Float], allreduce: (inout [Double]) -> Void
    ) -> Int {
        let channels = mean.count
        var v = [Double](repeating: 0, count: 1 + 2 * channels)
        v[0] = Double(m)
        for c in 0..<channels {
            let mu = Double(mean[c])
            v[1 + c] = Double(m) * mu
            v[1 + channels + c] = Double(m) * (Double(variance[c]) + mu * mu)
        }
        allreduce(&v)
        let count = Swift.max(v[0], 1)
        for c in 0..<channels {
            let mu: Double = v[1 + c] / count
            let square: Double = v[1 + channels + c] / count
            mean[c] = Float(mu)
            variance[c] = Float(Swift.max(square - mu * mu, 0))
        }
        return Int(v[0])
    }

    /// Per-channel mean and biased variance of [N, C, S] values: two passes, accumulated in Double.
    static func channelMoments(_ x: UnsafePointer<Float>, n: Int, channels: Int, spatial: Int) -> ([Float], [Float]) {
        var mean = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        let m = Double(n * spatial)
        var sums = [Double](repeating: 0, count: channels)
        sums.withUnsafeMutableBufferPointer { out in
            forEachChannelBlock(channels, n * spatial) { c0, c1 in
                tandem_channel_sums(x, n, channels, spatial, c0, c1, out.baseAddress)
            }
        }
        for c in 0..<channels { mean[c] = Float(sums[c] / m) }
        var squares = [Double](repeating: 0, count: channels)
        squares.withUnsafeMutableBufferPointer { out in
            forEachChannelBlock(channels, n * spatial) { c0, c1 in
                tandem_channel_squares(x, n, channels, spatial, c0, c1, mean, out.baseAddress)
            }
        }
        for c in 0..<channels { variance[c] = Float(squares[c] / m) }
        return (mean, variance)
    }
}

extension Tensor {
    /// Normalization over the last axis with a per-feature scale and shift, PyTorch's
    /// `F.layer_norm(x, (D,), weight, bias, eps)`: (x - mean) / sqrt(var + eps) * weight + bias with
    /// the biased variance. One fused op: per row one pass for the moments and one for the output;
    /// the backward pass is the closed form. Rows run in fixed blocks on Tandem's threads; the
    /// weight and bias gradients add one partial per block, in block order.
    public func layerNormalized(weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        let d = shape.last ?? 0
        precondition(
            d > 0 && weight.count == d && bias.count == d, "layer_norm: \(shape) with \(weight.count) features")
        let rows = count / d
        let block = Swift.max(1, Parallel.elementBlock / d)
        let stats = Tensor.empty([rows, 2])  // mean, 1/std per row, kept for backward
        let y = Tensor.empty(shape)
        let (xs, ys, ws, bs, ss) = (data, y.data, weight.data, bias.data, stats.data)
        Parallel.forEachBlock(rows, block: block) { s, e in
            tandem_layer_norm(xs + s * d, ys + s * d, e - s, d, ws, bs, eps, ss + 2 * s)
        }
        return Tensor.record(y, "layer_norm", [self, weight, bias]) { _, g in
            let ss = stats.data  // the closure keeps `stats` alive
            let blocks = (rows + block - 1) / block
            let gx = self.requiresGrad ? self.gradData() : nil
            // Per block: dW then dB, d values each.
            let partials = weight.requiresGrad || bias.requiresGrad ? TensorStorage(count: blocks * 2 * d) : nil
            let (pw, pb) = (weight.requiresGrad, bias.requiresGrad)
            Parallel.forEachBlock(rows, block: block) { s, e in
                let part = partials.map { $0.base + s / block * 2 * d }
                tandem_layer_norm_backward(
                    xs + s * d, g + s * d, e - s, d, ws, ss + 2 * s, gx.map { $0 + s * d }, pw ? part : nil,
                    pb ? part.map { $0 + d } : nil)
            }
            guard let partials else { return }
            for (wanted, grad, offset) in [(pw, weight, 0), (pb, bias, d)] where wanted {
                let out = grad.gradData()
                for k in 0..<blocks {
                    let part = partials.base + k * 2 * d + offset
                    for j in 0..<d { out[j] += part[j] }
                }
            }
        }
    }
}
