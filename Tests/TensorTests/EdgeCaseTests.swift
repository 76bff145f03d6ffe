import Foundation
import Tensor
import TestSupport
import Testing

/// Inputs at the edges of an op's domain, where Tandem once differed from PyTorch.
@Suite struct EdgeCaseTests {
    /// "Same" convolutions on maps narrower than the kernel (a 5x5 after pooling to 1x1): PyTorch
    /// accepts them; Tandem trapped. Checked against a Float64 loop and finite differences.
    @Test(arguments: [
        (5, 2, 1, 1, 1), (7, 3, 1, 1, 1), (7, 3, 2, 2, 1), (7, 3, 1, 2, 1), (5, 2, 3, 1, 1),
        (7, 3, 2, 1, 2), (5, 2, 1, 3, 2),
    ])
    func conv2dWithPaddingWiderThanTheMap(_ c: (kernel: Int, padding: Int, h: Int, w: Int, stride: Int)) {
        let shapes = [[2, 2, c.h, c.w], [3, 2, c.kernel, c.kernel], [3]]
        let xs = randomInputs(shapes, .any, seed: 11)
        let y = Tensor.conv2d(xs[0], weight: xs[1], bias: xs[2], stride: c.stride, padding: c.padding)
        expectClose(
            y.scalars, referenceConv2d(xs[0], xs[1], xs[2], stride: c.stride, padding: c.padding),
            .float32, "conv2d \(c) vs Float64 loop")
        checkFiniteDifferences(shapes) {
            Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: c.stride, padding: c.padding)
        }
    }

    /// A NaN anywhere in a window is that window's maximum, and its gradient goes there (PyTorch).
    @Test(arguments: [1, 2, 3])
    func maxPoolPropagatesNaNWhereverItIs(_ position: Int) throws {
        for (kernel, stride) in [(2, 2), (2, 1)] {  // the 2x2 fast path and the general loop
            var v: [Float] = [1, 2, 3, 4]
            v[position] = .nan
            let x = Tensor(v, shape: [1, 1, 2, 2], requiresGrad: true)
            let y = x.maxPool2d(kernel: kernel, stride: stride)
            #expect(y.count == 1 && y.scalars[0].isNaN, "kernel \(kernel) stride \(stride): \(y.scalars)")
            y.backward(seed: Tensor([1], shape: [1, 1, 1, 1]))
            let g = try #require(x.grad).scalars
            #expect(g == (0..<4).map { $0 == position ? 1 : 0 }, "gradient \(g)")
        }
    }

    /// d/dx x^0 = 0 everywhere, x = 0 included (was NaN there).
    @Test func powZeroHasZeroGradient() throws {
        let x = Tensor([0, 1, -2, 0.5], shape: [4], requiresGrad: true)
        let y = x.pow(0)
        #expect(y.scalars == [1, 1, 1, 1])
        y.backward(seed: Tensor(ones: [4]))
        #expect(try #require(x.grad).scalars == [0, 0, 0, 0])
    }
}

/// Direct convolution in Float64: the reference for edge-case shapes.
func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: Int, padding: Int) -> [Double] {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, k) = (w.shape[0], w.shape[2])
    let ho = (h + 2 * padding - k) / stride + 1
    let wo = (wd + 2 * padding - k) / stride + 1
    let xs = x.scalars
    let ws = w.scalars
    let bs = b.scalars
    var out: [Double] = []
    for img in 0..<n {
        for oc in 0..<o {
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var s = Double(bs[oc])
                    for ch in 0..<c {
                        for ki in 0..<k {
                            for kj in 0..<k {
                                let ih = oh * stride - padding + ki
                                let iw = ow * stride - padding + kj
                                guard ih >= 0 && ih < h && iw >= 0 && iw < wd else { continue }
                                s +=
                                    Double(xs[((img * c + ch) * h + ih) * wd + iw])
                                    * Double(ws[((oc * c + ch) * k + ki) * k + kj])
                            }
                        }
                    }
                    out.append(s)
                }
            }
        }
    }
    return out
}

/// GELU's C kernel (its own erf and exp) against the erf form in Float64 over [-12, 12] and at
/// the ends: within 1e-6 absolute (value and derivative), exact 0 and identity far out, NaN kept.
@Suite struct GeluKernelTests {
    @Test func geluMatchesTheErfFormEverywhere() {
        let xs = (0...4800).map { Float($0) * 0.005 - 12 } + [-80, -30, 30, 80, 0]
        let x = Tensor(xs, shape: [xs.count], requiresGrad: true)
        let y = x.gelu()
        y.backward(seed: Tensor(ones: [xs.count]))
        var worstValue = 0.0
        var worstSlope = 0.0
        for (i, v) in xs.enumerated() {
            let d = Double(v)
            let cdf = 0.5 * (1 + erf(d / 2.0.squareRoot()))
            let pdf = exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()
            worstValue = max(worstValue, abs(Double(y.scalars[i]) - d * cdf))
            worstSlope = max(worstSlope, abs(Double(x.grad!.scalars[i]) - (cdf + d * pdf)))
        }
        #expect(worstValue < 1e-6 * 12 && worstSlope < 1e-6, "value \(worstValue), slope \(worstSlope)")
        let nan = Tensor([.nan], shape: [1]).gelu().scalars[0]
        #expect(nan.isNaN)
    }
}
