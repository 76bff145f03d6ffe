import Foundation
import Testing

@testable import Tensor

/// bfloat16 as Tandem's bf16 products read their inputs: nearest even, NaN quiet, denormals to
/// signed zero (what AVX512_BF16's instruction does). Written out here as the reference.
func bf16Rounded(_ x: Float) -> Float {
    let u = x.bitPattern
    if u & 0x7f80_0000 == 0x7f80_0000 {
        return Float(bitPattern: (u & 0xffff_0000) | (u & 0x7f_ffff != 0 ? 0x40_0000 : 0))
    }
    if u & 0x7f80_0000 == 0 { return Float(bitPattern: u & 0x8000_0000) }
    return Float(bitPattern: ((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16) << 16)
}

/// Each bf16 op (inside `Autocast.run(.bf16)`) against its fp32 form on inputs (and upstream
/// gradients) rounded to bf16 first: the products then see the same values and differ only in
/// float32 summation order. And against plain fp32 within bf16's rounding.
@Suite struct BF16Tests {
    /// The cast, portable and native, against the reference on edge cases and random values.
    @Test func castRoundsToNearestEvenAndFlushesDenormals() {
        var values: [Float] = [
            0, -0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1 + 1 / 256, 1 + 3 / 256,
            Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000), Float(bitPattern: 0x7f7f_ffff),
        ]
        values += Tensor.randomNormal([1000], seed: 3, purpose: .data).scalars.map { $0 * 1e3 }
        for native in BF16Buffer.native == 1 ? [Int32(0), 1] : [0] {
            let out = BF16Buffer.cast(values, native: native)
            for (x, h) in zip(values, out) {
                let got = Float(bitPattern: UInt32(h) << 16)
                let want = bf16Rounded(x)
                #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "\(x) native \(native)")
            }
        }
    }

    /// Runs `op` on `inputs` in bf16 and, on the rounded inputs, in fp32; returns both outputs
    /// and both sets of input gradients (upstream gradient `r`, rounded for the fp32 side).
    func bothWays(_ shapes: [[Int]], _ op: ([Tensor]) -> Tensor) -> (bf16: [[Float]], fp32: [[Float]], plain: [[Float]])
    {
        let raw = shapes.enumerated().map {
            Tensor.randomNormal($0.element, seed: UInt64(10 + $0.offset), purpose: .data)
        }
        func run(_ precision: ComputePrecision, round: Bool) -> [[Float]] {
            let inputs = raw.map { t in
                Tensor(round ? t.scalars.map(bf16Rounded) : t.scalars, shape: t.shape, requiresGrad: true)
            }
            return Autocast.run(precision) {
                let y = op(inputs)
                let r = Tensor.randomNormal(y.shape, seed: 99, purpose: .data)
                let upstream = round ? Tensor(r.scalars.map(bf16Rounded), shape: r.shape) : r
                (y * upstream).sum().backward()
                return [y.scalars] + inputs.map { $0.grad?.scalars ?? [] }
            }
        }
        return (run(.bf16, round: false), run(.fp32, round: true), run(.fp32, round: false))
    }

    func expectBF16(_ shapes: [[Int]], exactProducts: Bool = true, _ op: ([Tensor]) -> Tensor) {
        let (bf16, fp32, plain) = bothWays(shapes, op)
        for (i, (a, b)) in zip(bf16, fp32).enumerated() {
            let scale = Double(b.map { Swift.abs($0) }.max() ?? 1)
            let worst = zip(a, b).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
            // Same bf16 inputs, float32 accumulation: only the summation order differs.
            if exactProducts { #expect(worst <= 1e-5 * scale, "output \(i): \(worst) vs scale \(scale)") }
            // Against plain fp32: within bf16's rounding (2^-8 per input, relative to the scale).
            let far = zip(a, plain[i]).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
            #expect(far <= 0.02 * scale, "output \(i) is \(far) from fp32 (scale \(scale))")
        }
        // bf16 really happened: the outputs are not fp32's.
        #expect(bf16[0] != plain[0], "bf16 output equals fp32's bit for bit")
    }

    @Test func matmul() { expectBF16([[7, 33], [33, 9]]) { Tensor.matmul($0[0], $0[1]) } }
    @Test func batchedMatmul() { expectBF16([[3, 5, 17], [3, 17, 4]]) { Tensor.matmul($0[0], $0[1]) } }
    @Test func linear() { expectBF16([[6, 40], [24, 40]]) { Tensor.linear($0[0], weight: $0[1], bias: nil) } }
    /// The bias is added in float32 (not a product input), so only the fp32 bound applies.
    @Test func linearWithBias() {
        expectBF16([[6, 40], [24, 40], [24]], exactProducts: false) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
    }
    @Test func bigLinear() { expectBF16([[64, 300], [200, 300]]) { Tensor.linear($0[0], weight: $0[1], bias: nil) } }
    /// oneDNN's direct convolution (3x3, several channels) and im2col (one input channel).
    @Test func convolution() {
        expectBF16([[2, 4, 9, 9], [6, 4, 3, 3]]) { Tensor.conv2d($0[0], weight: $0[1], bias: nil, padding: 1) }
        expectBF16([[2, 1, 9, 9], [6, 1, 3, 3]]) { Tensor.conv2d($0[0], weight: $0[1], bias: nil, stride: 2) }
    }
    /// Attention's products read strided q, k, v and round the probabilities too (not inputs).
    @Test func attention() {
        expectBF16([[2, 5, 24]], exactProducts: false) { Tensor.selfAttention($0[0], heads: 2, causal: true) }
    }

    /// The emulated path (a CPU without a bf16 kernel: rounded inputs widened, float32 product)
    /// gives the native kernel's numbers up to summation order.
    @Test func emulatedProductsMatchNativeOnes() {
        let a = Tensor.randomNormal([9, 70], seed: 4, purpose: .data)
        let b = Tensor.randomNormal([70, 11], seed: 5, purpose: .data)
        let (la, lb, lc) = (
            StridedMatrices.rowMajor(rows: 9, columns: 70, ld: 70),
            StridedMatrices.rowMajor(rows: 70, columns: 11, ld: 11),
            StridedMatrices.rowMajor(rows: 9, columns: 11, ld: 11)
        )
        let results = [true, false].map { native in
            Autocast.run(.bf16) {
                let context = Autocast.context!
                let (ca, ka) = BF16Buffer.compact(a.data, la, context, slot: 0)
                let (cb, kb) = BF16Buffer.compact(b.data, lb, context, slot: 1)
                let c = Tensor(zeros: [9, 11])
                BLAS.bf16Product(ca, ka, cb, kb, c.data, lc, alpha: 1, beta: 0, native: native)
                return c.scalars
            }
        }
        let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-4 && results[0] != Array(repeating: 0, count: 99), "\(worst)")
    }

    /// A scope casts a cached weight once: a change inside the scope is not seen, the next
    /// scope sees it (the trainer opens one scope per step, after the optimizer's update).
    @Test func weightsAreCastOncePerScope() {
        let x = Tensor.randomNormal([4, 8], seed: 1, purpose: .data)
        let w = Tensor.randomNormal([3, 8], seed: 2, purpose: .data)
        let (first, second) = Autocast.run(.bf16, caching: [w]) {
            let a = Tensor.linear(x, weight: w, bias: nil).scalars
            w.data[0] += 10
            return (a, Tensor.linear(x, weight: w, bias: nil).scalars)
        }
        #expect(first == second)
        let next = Autocast.run(.bf16, caching: [w]) { Tensor.linear(x, weight: w, bias: nil).scalars }
        #expect(next != first)
        #expect(Autocast.precision == .fp32)
    }

    /// Against PyTorch's CPU autocast on the same inputs (Tests/Fixtures/torch_bf16.json, by
    /// make_torch_bf16.py): PyTorch rounds the products' outputs (and the gradients it computes
    /// with bf16 products) to bf16 as well, Tandem keeps them float32, so the two agree within
    /// one bf16 rounding of the result: 2^-8 relative, plus 2^-8 of the tensor's scale for sums
    /// whose terms cancel.
    @Test(arguments: ["matmul", "linear", "conv2d"])
    func matchesPyTorchAutocast(name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/torch_bf16.json")
        let all = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let c = try #require(all[name] as? [String: Any])
        let floats = { (v: Any?) in ((v as? [Double]) ?? []).map(Float.init) }
        let specs = try #require(c["inputs"] as? [[String: Any]])
        let inputs = specs.map { Tensor(floats($0["values"]), shape: $0["shape"] as? [Int] ?? [], requiresGrad: true) }
        let output = try #require(c["output"] as? [String: Any])
        let y = Autocast.run(.bf16) { () -> Tensor in
            let y: Tensor
            switch name {
            case "matmul": y = Tensor.matmul(inputs[0], inputs[1])
            case "linear": y = Tensor.linear(inputs[0], weight: inputs[1], bias: inputs[2])
            default: y = Tensor.conv2d(inputs[0], weight: inputs[1], bias: nil, padding: 1)
            }
            (y * Tensor(floats(c["upstream"]), shape: y.shape)).sum().backward()
            return y
        }
        #expect(y.shape == output["shape"] as? [Int])
        let expected = [floats(output["values"])] + ((c["grads"] as? [Any]) ?? []).map(floats)
        let actual = [y.scalars] + inputs.map { $0.grad?.scalars ?? [] }
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let scale = e.map { abs($0) }.max() ?? 1
            let bad = zip(a, e).filter { abs($0 - $1) > (abs($1) + scale) / 256 }
            #expect(a.count == e.count && bad.isEmpty, "\(name) tensor \(i): \(bad.prefix(3)) (scale \(scale))")
        }
    }
}
