import COneDNN
import Foundation

/// Which library computes matrix products.
public enum MatmulAlgorithm: String, Sendable, CaseIterable {
    /// oneDNN's matmul for products of at least `BLAS.oneDNNMinimumWork` multiply-adds (10-45%
    /// faster than OpenBLAS on the dense workloads' GEMMs here: docs/benchmarks.md) and for
    /// batches of products (one call for all of attention's), OpenBLAS for single small ones.
    case oneDNN = "onednn"
    /// OpenBLAS's sgemm for every product.
    case openBLAS = "openblas"

    /// The process's choice: `TANDEM_MATMUL=openblas` in the environment, oneDNN otherwise.
    public static let current: MatmulAlgorithm =
        ProcessInfo.processInfo.environment["TANDEM_MATMUL"].flatMap(MatmulAlgorithm.init(rawValue:)) ?? .oneDNN
}

/// Matrices laid out in memory by strides: `dims` are (batch..., rows, columns), `strides` the
/// step in elements along each. A transposed matrix is the same memory with the last two swapped.
public struct StridedMatrices: Hashable, Sendable {
    /// Extents of the batched matrices.
    public var dims: [Int]
    /// Element strides of each extent.
    public var strides: [Int]

    /// A layout from extents and strides.
    public init(dims: [Int], strides: [Int]) {
        precondition(dims.count == strides.count && dims.count >= 2, "StridedMatrices: \(dims) vs \(strides)")
        self.dims = dims
        self.strides = strides
    }

    /// A row-major matrix with leading dimension `ld` (columns x rows when transposed).
    public static func rowMajor(rows: Int, columns: Int, ld: Int, transposed: Bool = false) -> StridedMatrices {
        StridedMatrices(dims: [rows, columns], strides: transposed ? [1, ld] : [ld, 1])
    }

    /// The same matrices transposed.
    public var transposed: StridedMatrices {
        var t = self
        t.dims.swapAt(dims.count - 2, dims.count - 1)
        t.strides.swapAt(dims.count - 2, dims.count - 1)
        return t
    }

    /// Elements from the first to one past the last (all strides non-negative).
    var extent: Int { zip(dims, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 } }

    /// Matrices in the batch (the product of the leading extents).
    var batchCount: Int { dims.dropLast(2).reduce(1, *) }

    /// Element offset of batch index `index` (row-major over the batch extents).
    func offset(ofBatch index: Int) -> Int {
        var (offset, rest) = (0, index)
        for axis in stride(from: dims.count - 3, through: 0, by: -1) {
            offset += rest % dims[axis] * strides[axis]
            rest /= dims[axis]
        }
        return offset
    }

    /// The same extents, stored compactly row-major.
    var compacted: StridedMatrices {
        var s = [Int](repeating: 1, count: dims.count)
        for axis in stride(from: dims.count - 2, through: 0, by: -1) { s[axis] = s[axis + 1] * dims[axis + 1] }
        return StridedMatrices(dims: dims, strides: s)
    }

    var rows: Int { dims[dims.count - 2] }
    var columns: Int { dims[dims.count - 1] }
    /// As cblas takes one matrix: whether it is stored transposed, and its leading dimension.
    var cblas: (transposed: Bool, ld: Int)? {
        let (r, c) = (strides[dims.count - 2], strides[dims.count - 1])
        if c == 1 { return (false, r) }
        if r == 1 { return (true, c) }
        return nil
    }
}

/// oneDNN's matmul primitive for one product shape, made on first use and kept.
final class OneDNNMatmulPlan: Sendable {
    /// The three operands' layouts, alpha, beta and the thread count (it fixes the work split).
    struct Key: Hashable, Sendable {
        let a: StridedMatrices, b: StridedMatrices, c: StridedMatrices
        let alpha: Float, beta: Float
        /// bfloat16 A and B (C stays float32).
        var bf16 = false
        var threads = Parallel.productThreads
    }

    /// Safe to share: the C object serializes its calls with its own mutex.
    nonisolated(unsafe) let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }
    deinit { tandem_onednn_matmul_destroy(handle) }

    private static let plans = PlanCache<Key, OneDNNMatmulPlan>(limit: 256)

    /// The plan for `key`, or nil where oneDNN cannot compute it.
    static func plan(for key: Key) -> OneDNNMatmulPlan? {
        plans.plan(for: key) { key in
            var message = [CChar](repeating: 0, count: 256)
            return tandem_onednn_matmul_create(
                Int32(key.a.dims.count), key.a.dims, key.a.strides, key.b.dims, key.b.strides, key.c.dims,
                key.c.strides, key.alpha, key.beta, key.bf16 ? 1 : 0, Int32(key.threads), &message, message.count
            ).map(OneDNNMatmulPlan.init(handle:))
        }
    }

    func run(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ c: UnsafeMutablePointer<Float>) {
        precondition(tandem_onednn_matmul_run(handle, a, b, c) == 0, "oneDNN matmul failed after it was made")
    }
}

extension BLAS {
    /// C = alpha A B + beta C for every batch index (the leading dims, equal for all three): one
    /// oneDNN call, or one OpenBLAS sgemm per batch index where oneDNN is off or declines.
    /// Inside `Autocast.run(.bf16)`, A and B are read as bfloat16.
    public static func batchedGemm(
        _ a: UnsafePointer<Float>, _ la: StridedMatrices, _ b: UnsafePointer<Float>, _ lb: StridedMatrices,
        _ c: UnsafeMutablePointer<Float>, _ lc: StridedMatrices, alpha: Float = 1, beta: Float = 0
    ) {
        let batch = Array(lc.dims.dropLast(2))
        precondition(
            Array(la.dims.dropLast(2)) == batch && Array(lb.dims.dropLast(2)) == batch && la.columns == lb.rows
                && la.rows == lc.rows && lb.columns == lc.columns,
            "batchedGemm: \(la.dims) x \(lb.dims) -> \(lc.dims)")
        if let context = Autocast.context, la.columns > 0 {
            let (ca, ka) = BF16Buffer.compact(a, la, context, slot: 0)
            let (cb, kb) = BF16Buffer.compact(b, lb, context, slot: 1)
            bf16Product(ca, ka, cb, kb, c, lc, alpha: alpha, beta: beta)
            return
        }
        fp32BatchedGemm(a, la, b, lb, c, lc, alpha: alpha, beta: beta)
    }

    /// `batchedGemm` in float32 whatever the autocast setting.
    static func fp32BatchedGemm(
        _ a: UnsafePointer<Float>, _ la: StridedMatrices, _ b: UnsafePointer<Float>, _ lb: StridedMatrices,
        _ c: UnsafeMutablePointer<Float>, _ lc: StridedMatrices, alpha: Float = 1, beta: Float = 0
    ) {
        let batch = Array(lc.dims.dropLast(2))
        if MatmulAlgorithm.current == .oneDNN && la.columns > 0,
            let plan = OneDNNMatmulPlan.plan(for: .init(a: la, b: lb, c: lc, alpha: alpha, beta: beta))
        {
            plan.run(a, b, c)
            return
        }
        guard let ca = la.cblas, let cb = lb.cblas, let cc = lc.cblas, !cc.transposed else {
            preconditionFailure("batchedGemm: OpenBLAS needs unit column (or row) strides")
        }
        for index in 0..<batch.reduce(1, *) {
            let (oa, ob, oc) = (la.offset(ofBatch: index), lb.offset(ofBatch: index), lc.offset(ofBatch: index))
            openBLASGemm(
                transA: ca.transposed, transB: cb.transposed, m: lc.rows, n: lc.columns, k: la.columns, alpha: alpha,
                a: a + oa, lda: ca.ld, b: b + ob, ldb: cb.ld, beta: beta, c: c + oc, ldc: cc.ld)
        }
    }
}
