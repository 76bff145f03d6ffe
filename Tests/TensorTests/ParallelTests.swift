import Foundation
import Testing

@testable import Tensor

/// Tandem's kernels on threads give the same bits on 1, 2 and 4 threads (fixed blocks).
@Suite struct ParallelTests {
    /// Every block runs once, blocks never overlap, and the last one is short.
    @Test func blocksCoverTheRangeOnce() {
        let previous = Parallel.threads
        defer { Parallel.setThreads(previous) }
        for threads in [1, 2, 4] {
            Parallel.setThreads(threads)
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: 1000)
            defer { hits.deallocate() }
            hits.initialize(repeating: 0, count: 1000)
            Parallel.forEachBlock(1000, block: 64) { begin, end in
                for i in begin..<end { hits[i] += 1 }
            }
            #expect((0..<1000).allSatisfy { hits[$0] == 1 }, "\(threads) threads")
        }
    }

    /// relu, gelu, batch norm (forward and backward, with its per-channel sums) and Adam on
    /// inputs of many blocks: the same bits whatever the thread count.
    @Test func kernelsAreBitIdenticalOnAnyThreadCount() {
        let previous = Parallel.threads
        defer { Parallel.setThreads(previous) }
        func run() -> [[Float]] {
            let x = Tensor(
                Tensor.randomNormal([16, 8, 30, 30], seed: 3, purpose: .data).scalars, shape: [16, 8, 30, 30],
                requiresGrad: true)
            let w = Tensor(repeating: 1.5, shape: [8], requiresGrad: true)
            let b = Tensor(repeating: 0.1, shape: [8], requiresGrad: true)
            let (bn, _) = x.batchNormalized(weight: w, bias: b, eps: 1e-5)
            let y = bn.relu().gelu()
            (y * y).sum().backward()
            let p = Tensor.randomNormal([100_000], seed: 4, purpose: .data)
            let g = Tensor.randomNormal([100_000], seed: 5, purpose: .data)
            let (m, v) = (Tensor(zeros: [100_000]), Tensor(zeros: [100_000]))
            VectorOps.adam(
                p.data, g.data, m.data, v.data, 100_000, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01,
                shrink: 1, stepSize: 0.001, c2Sqrt: 0.03)
            return [y.scalars, x.grad?.scalars ?? [], w.grad?.scalars ?? [], p.scalars, v.scalars]
        }
        Parallel.setThreads(1)
        let one = run()
        for threads in [2, 4] {
            Parallel.setThreads(threads)
            #expect(run() == one, "\(threads) threads differ from one")
        }
    }

    /// The im2col convolutions (one input channel, 1x1 kernels) run their images in blocks on the
    /// threads: outputs and gradients (dW from per-block partials) the same bits on 1, 2 and 3.
    @Test func im2colConvolutionsAreBitIdenticalOnAnyThreadCount() {
        let previous = Parallel.threads
        defer { Parallel.setThreads(previous) }
        func run(c: Int, k: Int, stride: Int) -> [[Float]] {
            let x = Tensor(
                Tensor.randomNormal([20, c, 12, 12], seed: 6, purpose: .data).scalars, shape: [20, c, 12, 12],
                requiresGrad: c > 1)
            let w = Tensor.randomUniform([6, c, k, k], low: -0.5, high: 0.5, seed: 7, requiresGrad: true)
            let b = Tensor(repeating: 0.2, shape: [6], requiresGrad: true)
            let y = Tensor.conv2d(x, weight: w, bias: b, stride: stride, padding: k / 2)
            (y * y).sum().backward()
            return [y.scalars, x.grad?.scalars ?? [], w.grad?.scalars ?? [], b.grad?.scalars ?? []]
        }
        for (c, k, stride) in [(1, 3, 1), (4, 1, 2)] {
            Parallel.setThreads(1)
            let one = run(c: c, k: k, stride: stride)
            #expect(!one[2].isEmpty)
            for threads in [2, 3] {
                Parallel.setThreads(threads)
                #expect(run(c: c, k: k, stride: stride) == one, "\(c) channels, \(k)x\(k): \(threads) threads")
            }
        }
    }

    /// Same-shape elementwise ops, affine, layer norm (its dW and dB from per-block partials),
    /// attention's softmax passes, max pooling, a linear layer's bias broadcast and cross-entropy: the
    /// same bits on 1, 2 and 3 threads.
    @Test func elementwiseLayerNormAndAttentionAreBitIdenticalOnAnyThreadCount() {
        let previous = Parallel.threads
        defer { Parallel.setThreads(previous) }
        func run() -> [[Float]] {
            func leaf(_ shape: [Int], _ seed: UInt64) -> Tensor {
                Tensor(Tensor.randomNormal(shape, seed: seed, purpose: .data).scalars, shape: shape, requiresGrad: true)
            }
            let (a, b) = (leaf([8, 16, 30, 30], 1), leaf([8, 16, 30, 30], 2))
            let (x, w, bias) = (leaf([1200, 96], 3), leaf([96], 4), leaf([96], 5))
            let qkv = leaf([24, 16, 3 * 32], 6)
            let e = ((a + b) * a - b / (a * a + 1)) * 0.5
            let n = x.layerNormalized(weight: w, bias: bias, eps: 1e-5)
            let att = Tensor.selfAttention(qkv, heads: 2, causal: true)
            let (m2, m3) = (a.maxPool2d(kernel: 2), b.maxPool2d(kernel: 3, stride: 2, padding: 1))
            let (lw, lb) = (leaf([40, 96], 7), leaf([40], 8))
            let lin = Tensor.linear(x, weight: lw, bias: lb)
            let losses = [(e * e).sum(), (n * n).sum(), (att * att).sum(), (m2 * m2).sum(), (m3 * m3).sum()]
            losses.dropFirst().reduce(losses[0], +).backward()
            ((lin * lin).sum() + Tensor.crossEntropy(logits: lin, labels: (0..<1200).map { $0 % 40 })).backward()
            return [e.scalars, n.scalars, att.scalars, m2.scalars, m3.scalars, lin.scalars]
                + [a, b, x, w, bias, qkv, lw, lb].map { $0.grad?.scalars ?? [] }
        }
        Parallel.setThreads(1)
        let one = run()
        #expect(one.allSatisfy { !$0.isEmpty })
        for threads in [2, 3] {
            Parallel.setThreads(threads)
            let other = run()
            let differing = zip(other, one).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(differing.isEmpty, "\(threads) threads differ from one in outputs \(differing)")
        }
    }
}
