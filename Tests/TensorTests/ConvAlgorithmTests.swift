import Tensor
import TestSupport
import Testing

/// oneDNN's convolution against im2col + sgemm (itself checked against PyTorch in OpTests):
/// outputs and every gradient, accumulated onto existing gradients as backward must.
@Suite struct ConvAlgorithmTests {
    @Test(arguments: [
        // (batch, in channels, h, w, out channels, kernel, stride, padding, bias)
        (3, 16, 12, 12, 16, 3, 1, 1, false), (2, 16, 9, 11, 32, 3, 2, 1, true), (4, 32, 7, 7, 64, 3, 1, 1, false),
        (1, 8, 6, 5, 4, 5, 1, 2, true), (2, 3, 8, 8, 5, 3, 1, 0, true), (5, 32, 13, 13, 64, 3, 1, 0, false),
    ])
    func oneDNNEqualsIm2col(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Bool)) throws {
        let (n, ci, h, w, co, k, stride, pad, withBias) = c
        func run(_ algorithm: ConvAlgorithm) -> [[Float]] {
            let xs = randomInputs([[n, ci, h, w], [co, ci, k, k], [co]], .any, seed: 5)
            let bias = withBias ? xs[2] : nil
            var outputs: [[Float]] = []
            for _ in 0..<2 {  // the second backward adds onto the first's gradients
                let y = Tensor.conv2d(
                    xs[0], weight: xs[1], bias: bias, stride: stride, padding: pad, algorithm: algorithm)
                let seed = Tensor.randomUniform(y.shape, low: -1, high: 1, seed: 9)
                y.backward(seed: seed)
                outputs = [y.scalars]
            }
            let grads = (withBias ? xs : Array(xs.prefix(2))).map { $0.grad?.scalars ?? [] }
            return outputs + grads
        }
        let reference = run(.im2col)
        let measured = run(.oneDNN)
        for (i, name) in ["output", "input gradient", "weight gradient", "bias gradient"].prefix(reference.count)
            .enumerated()
        {
            expectClose(measured[i], reference[i].map(Double.init), .float32, "\(name) of conv \(c)")
        }
    }

    /// The same call twice gives the same bits (exact mode's premise for every op).
    @Test func oneDNNIsDeterministic() {
        let xs = randomInputs([[4, 16, 10, 10], [16, 16, 3, 3]], .any, seed: 6)
        func once() -> [Float] {
            xs[0].grad = nil
            xs[1].grad = nil
            let y = Tensor.conv2d(xs[0], weight: xs[1], bias: nil, padding: 1, algorithm: .oneDNN)
            y.backward(seed: Tensor(ones: y.shape))
            return y.scalars + (xs[0].grad?.scalars ?? []) + (xs[1].grad?.scalars ?? [])
        }
        #expect(once() == once())
    }
}
