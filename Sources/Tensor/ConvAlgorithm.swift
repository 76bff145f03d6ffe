import COneDNN
import Foundation

/// How `Tensor.conv2d` computes a convolution.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// oneDNN's direct convolution in its blocked layouts (2x im2col's speed on 3x3 layers here:
    /// docs/benchmarks.md); shapes oneDNN declines fall back to im2col.
    case oneDNN = "onednn"
    /// Patches copied into a matrix and one OpenBLAS sgemm per image (the reference).
    case im2col

    /// The process's choice: `TANDEM_CONV=im2col` in the environment, oneDNN otherwise.
    public static let current: ConvAlgorithm =
        ProcessInfo.processInfo.environment["TANDEM_CONV"].flatMap(ConvAlgorithm.init(rawValue:)) ?? .oneDNN
}

/// oneDNN's primitives for one convolution shape (batch included), made on first use and kept.
final class OneDNNConvPlan: Sendable {
    /// The shape a plan is made for.
    struct Key: Hashable, Sendable {
        let n: Int
        let geometry: ConvGeometry
        /// bfloat16 inputs (x, weight, gy), float32 outputs and gradients.
        var bf16 = false
        /// Threads fix a primitive's work split, and so its sums' order: exact mode needs one.
        var threads = Parallel.productThreads
    }

    /// Safe to share: the C object serializes its calls with its own mutex.
    nonisolated(unsafe) let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }
    deinit { tandem_onednn_conv_destroy(handle) }

    private static let plans = PlanCache<Key, OneDNNConvPlan>(limit: 64)

    /// The plan for `key`, or nil where oneDNN cannot compute this shape.
    static func plan(for key: Key) -> OneDNNConvPlan? {
        plans.plan(for: key) { key in
            let g = key.geometry
            var message = [CChar](repeating: 0, count: 256)
            return tandem_onednn_conv_create(
                key.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.stride, g.pad, key.bf16 ? 1 : 0, Int32(key.threads),
                &message, message.count
            ).map(OneDNNConvPlan.init(handle:))
        }
    }

    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, add: Bool) {
        let status = tandem_onednn_conv_forward(handle, x, w, y, add ? 1 : 0)
        precondition(status == 0, "oneDNN convolution failed after its primitives were made")
    }

    func backward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
        gw: UnsafeMutablePointer<Float>?, gx: UnsafeMutablePointer<Float>?
    ) {
        let status = tandem_onednn_conv_backward(handle, x, w, gy, gw, gx)
        precondition(status == 0, "oneDNN convolution backward failed after its primitives were made")
    }
}
