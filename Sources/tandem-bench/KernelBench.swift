import Tensor

/// Tensor's matmul and conv2d against raw OpenBLAS sgemm on the same shapes, in one run.
func kernelBench() {
    print("Kernels: Tandem vs raw OpenBLAS sgemm (\(BLAS.threads) BLAS thread(s)); GFLOP/s, best of 7 rounds")
    print(pad("case", 46) + pad("Tandem", 10) + pad("sgemm", 10) + "ratio")
    func row(_ name: String, _ flops: Double, _ times: [Double]) {
        let t = flops / times[0] / 1e9
        let r = flops / times[1] / 1e9
        print(pad(name, 46) + pad(fmt(t), 10) + pad(fmt(r), 10) + fmt(t / r, 3))
    }

    matmulRows(row)
    convRows(row)
}

/// Tandem's matmul against sgemm on the same shapes.
func matmulRows(_ row: (String, Double, [Double]) -> Void) {
    for (m, k, n) in [(128, 784, 128), (512, 512, 512)] {
        let a = Tensor.randomUniform([m, k], seed: 1)
        let b = Tensor.randomUniform([k, n], seed: 2)
        let c = Tensor(zeros: [m, n])
        let times = race([
            { _ = Tensor.matmul(a, b) },
            { BLAS.openBLASGemm(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n) },
        ])
        row("matmul \(m)x\(k)x\(n)", 2.0 * Double(m * k * n), times)
    }
}

/// conv2d forward + backward against the equivalent whole-batch GEMMs.
func convRows(_ row: (String, Double, [Double]) -> Void) {
    // conv2d forward + backward, batch 64, 1x28x28 -> 32 channels, 3x3, no padding.
    let (nb, ci, hw, co, kk) = (64, 1, 28, 32, 3)
    let ho = hw - kk + 1
    let cols = nb * ho * ho
    let patch = ci * kk * kk
    let x = Tensor.randomUniform([nb, ci, hw, hw], seed: 3)
    let w = Tensor.randomUniform([co, ci, kk, kk], low: -0.3, high: 0.3, seed: 4, requiresGrad: true)
    let bias = Tensor(zeros: [co], requiresGrad: true)
    let seedGrad = Tensor(ones: [nb, co, ho, ho])
    // The equivalent GEMMs on buffers of the same sizes: Y = W col, dW = dY col^T (+ dcol = W^T dY).
    let colB = Tensor.randomUniform([patch, cols], seed: 5)
    let yB = Tensor(zeros: [co, cols])
    let gwB = Tensor(zeros: [co, patch])
    let gcolB = Tensor(zeros: [patch, cols])
    for withInputGrad in [false, true] {
        x.requiresGrad = withInputGrad
        let gemms = withInputGrad ? 3.0 : 2.0
        let times = race([
            {
                let y = Tensor.conv2d(x, weight: w, bias: bias)
                y.backward(seed: seedGrad)
                w.zeroGrad()
                bias.zeroGrad()
                x.grad = nil
            },
            {
                BLAS.openBLASGemm(
                    m: co, n: cols, k: patch, a: w.data, lda: patch, b: colB.data, ldb: cols, c: yB.data, ldc: cols)
                BLAS.openBLASGemm(
                    transB: true, m: co, n: patch, k: cols, a: yB.data, lda: cols, b: colB.data, ldb: cols,
                    c: gwB.data, ldc: patch)
                if withInputGrad {
                    BLAS.openBLASGemm(
                        transA: true, m: patch, n: cols, k: co, a: w.data, lda: patch, b: yB.data, ldb: cols,
                        c: gcolB.data, ldc: cols)
                }
            },
        ])
        row(
            "conv2d fwd+bwd 64x1x28x28->32 3x3" + (withInputGrad ? " (+dx)" : ""),
            gemms * 2.0 * Double(co * patch * cols), times)
    }
}
