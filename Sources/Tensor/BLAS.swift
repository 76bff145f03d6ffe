import CBLAS

/// All matrix products go through here: the one place where Swift meets cblas.h, and where a
/// product goes to oneDNN instead (`MatmulAlgorithm`).
public enum BLAS {
    /// Multiply-adds from which a product goes to oneDNN (below, OpenBLAS: measured on the
    /// transformer, whose attention products are 131,072).
    public static let oneDNNMinimumWork = 1 << 18

    /// C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n. Inside
    /// `Autocast.run(.bf16)`, A and B are read as bfloat16.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if let context = Autocast.context, k > 0, m > 0, n > 0 {
            bf16Gemm(
                context, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc)
            return
        }
        if MatmulAlgorithm.current == .oneDNN && k > 0 && m * n * k >= oneDNNMinimumWork,
            let plan = OneDNNMatmulPlan.plan(
                for: .init(
                    a: .rowMajor(rows: m, columns: k, ld: lda, transposed: transA),
                    b: .rowMajor(rows: k, columns: n, ld: ldb, transposed: transB),
                    c: .rowMajor(rows: m, columns: n, ld: ldc), alpha: alpha, beta: beta))
        {
            plan.run(a, b, c)
            return
        }
        openBLASGemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc)
    }

    /// `gemm` on OpenBLAS whatever its size (the benchmarks' raw sgemm).
    @inline(__always)
    public static func openBLASGemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// Sets the number of threads OpenBLAS uses (one per rank under mpirun).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// The number of threads OpenBLAS will use.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The CPU kernel OpenBLAS chose at load time ("Cooperlake", "SkylakeX", "Haswell", ...):
    /// `OPENBLAS_CORETYPE` can force an older one, which halves sgemm on an AVX-512 CPU.
    public static var kernel: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
