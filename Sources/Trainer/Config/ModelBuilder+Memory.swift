import Foundation
import Glibc

extension LayerSpec {
    /// Parameters this layer will hold on an input of `shape` ([N, ...]), counted before anything
    /// is allocated (so an impossible size is an error, not a crash in the allocator).
    func parameterCount(input shape: [Int], vocabulary: Int?) -> Int {
        switch self {
        case .linear(let width, let bias):
            let out = width.resolved(vocabulary: vocabulary) ?? 0
            return (shape.last ?? 0) * out + (bias ? out : 0)
        case .embedding(let dim): return (vocabulary ?? 0) * dim
        case .positional: return shape.count == 3 ? shape[1] * shape[2] : 0
        case .conv2d(let out, let kernel, _, _, let bias):
            return shape.count == 4 ? out * shape[1] * kernel * kernel + (bias ? out : 0) : 0
        case .rnn(let hidden, _): return shape.count == 3 ? hidden * (shape[2] + hidden) + 2 * hidden : 0
        case .lstm(let hidden, _): return shape.count == 3 ? 4 * hidden * (shape[2] + hidden) + 8 * hidden : 0
        case .layerNorm: return 2 * (shape.last ?? 0)
        case .batchNorm: return shape.count >= 2 ? 4 * shape[1] : 0
        // A block's layers are counted once it is built (their input shapes need the modules).
        case .residual: return 0
        case .transformer(_, let ff, _, _):
            guard shape.count == 3 else { return 0 }
            let d = shape[2]  // attention 4D^2 + 4D, feed-forward 2 D ff + ff + D, two norms 4D
            return 4 * d * d + 9 * d + 2 * d * ff + ff
        case .flatten, .globalAvgPool, .maxPool2d, .avgPool2d, .activation, .dropout: return 0
        }
    }
}

/// What a model will need in memory, estimated from its specs, against what the machine has.
struct MemoryEstimate {
    /// Bytes per parameter while training: the weight, its gradient, up to two optimizer
    /// buffers (Adam) and the checkpoint's copy.
    static let bytesPerParameter = 5 * 4
    /// Bytes per activation element: the output and its gradient.
    static let bytesPerActivation = 2 * 4

    var parameters = 0
    var activationsPerSample = 0

    var bytes: Int { parameters * Self.bytesPerParameter }
    func bytes(batch: Int) -> Int { bytes + activationsPerSample * batch * Self.bytesPerActivation }

    /// Physical memory of this machine.
    static var physicalBytes: Int { sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE)) }

    static func gigabytes(_ b: Int) -> String { String(format: "%.1f GB", Double(b) / 1e9) }
}
