import Tensor

/// Tandem's own ops at the workloads' sizes, forward + backward, on 1 and `threads` threads:
/// what threads buy outside the products.
func opBench(threads: Int) {
    print("Tandem ops fwd+bwd (ms, best of 7 rounds): 1 thread vs \(threads)")
    print(pad("op", 40) + pad("1 thread", 12) + pad("\(threads) threads", 12) + "speed-up")
    let x = Tensor.randomNormal([64, 16, 28, 28], seed: 1, purpose: .data)
    let y = Tensor.randomNormal([64, 16, 28, 28], seed: 2, purpose: .data)
    let row = Tensor.randomNormal([64 * 32, 128], seed: 3, purpose: .data)
    let gain = Tensor.randomNormal([128], seed: 4, purpose: .data)
    let (w, b) = (Tensor(ones: [128]), Tensor(zeros: [128]))
    for t in [x, y, row, gain, w, b] { t.requiresGrad = true }
    let qkv = Tensor.randomNormal([64, 32, 3 * 128], seed: 5, purpose: .data)
    qkv.requiresGrad = true
    let cases: [(String, () -> Tensor)] = [
        ("add [64,16,28,28] (residual)", { x + y }),
        ("mul by a row [2048,128] x [128]", { row * gain }),
        ("affine [64,16,28,28]", { x * 0.5 }),
        ("layer norm [2048,128]", { row.layerNormalized(weight: w, bias: b, eps: 1e-5) }),
        ("attention [64,32,3x128], 4 heads, causal", { Tensor.selfAttention(qkv, heads: 4, causal: true) }),
    ]
    for (name, make) in cases {
        var times: [Double] = []
        for n in [1, threads] {
            Parallel.setThreads(n)
            Parallel.setProductThreads(n)
            times.append(
                race([
                    {
                        let out = make()
                        out.backward(seed: Tensor(ones: out.shape))
                        for t in [x, y, row, gain, w, b, qkv] { t.grad = nil }
                    }
                ])[0])
        }
        print(
            pad(name, 40) + pad(fmt(times[0] * 1e3, 3), 12) + pad(fmt(times[1] * 1e3, 3), 12)
                + fmt(times[0] / times[1], 2))
    }
}
