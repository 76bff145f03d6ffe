import COneDNN
import Foundation

/// Which library computes `BLAS.gemm`'s products.
public enum MatmulAlgorithm: String, Sendable, CaseIterable {
    /// oneDNN's matmul for products of at least `BLAS.oneDNNMinimumWork` multiply-adds (10-45%
    /// faster than OpenBLAS on the dense workloads' GEMMs here: docs/benchmarks.md), OpenBLAS below
    /// (a oneDNN call's fixed cost outweighs the gain on attention's 64 x 64 x 32 products).
    case oneDNN = "onednn"
    /// OpenBLAS's sgemm for every product.
    case openBLAS = "openblas"

    /// The process's choice: `TANDEM_MATMUL=openblas` in the environment, oneDNN otherwise.
    public static let current: MatmulAlgorithm =
        ProcessInfo.processInfo.environment["TANDEM_MATMUL"].flatMap(MatmulAlgorithm.init(rawValue:)) ?? .oneDNN
}

/// oneDNN's matmul primitive for one GEMM shape, made on first use and kept.
final class OneDNNMatmulPlan: Sendable {
    /// Everything cblas_sgemm takes but the buffers, and the thread count (it fixes the work split).
    struct Key: Hashable, Sendable {
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        let alpha: Float, beta: Float
        var threads = Swift.max(1, BLAS.threads)
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
                key.transA ? 1 : 0, key.transB ? 1 : 0, key.m, key.n, key.k, key.lda, key.ldb, key.ldc, key.alpha,
                key.beta, Int32(key.threads), &message, message.count
            ).map(OneDNNMatmulPlan.init(handle:))
        }
    }

    func run(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        precondition(tandem_onednn_matmul_run(handle, a, b, c) == 0, "oneDNN matmul failed after it was made")
    }
}
