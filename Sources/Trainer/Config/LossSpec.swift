import Data
import NN

/// `loss:` in a config, and the loss itself: summed over a batch's samples (ranks weigh their
/// shares by real counts; the trainer divides by the global count).
public enum LossSpec: String, CaseIterable, Equatable, Sendable {
    case crossEntropy = "cross_entropy"
    case mse
    case bceWithLogits = "bce_with_logits"

    /// Loss terms per sample: 1 for cross-entropy, the target width for the elementwise losses
    /// (PyTorch's mean divides by every element).
    func termsPerSample(targetWidth: Int) -> Int { self == .crossEntropy ? 1 : targetWidth }

    /// The batch's summed loss. The trainer's checks (`Trainer+Checks.swift`) guarantee that an
    /// elementwise loss has targets; a batch without them is a programming error.
    func sum(_ out: Tensor, _ batch: Batch) -> Tensor {
        switch self {
        case .crossEntropy:
            // Sequences: every position's scores against its next token ([N, T, V] as [N*T, V]).
            let logits = out.rank == 3 ? out.reshaped(to: [out.shape[0] * out.shape[1], out.shape[2]]) : out
            return Tensor.crossEntropy(logits: logits, labels: batch.labels, reduction: .sum)
        case .mse, .bceWithLogits:
            guard let targets = batch.targets else { preconditionFailure("\(rawValue): a batch without targets") }
            return self == .mse
                ? Tensor.meanSquaredError(out, targets, reduction: .sum)
                : Tensor.binaryCrossEntropyWithLogits(out, targets, reduction: .sum)
        }
    }

    /// How a checkpoint's config records a `Loss` given from Swift.
    static let swiftName = "swift"

    /// The config's loss; nil for `swift` in a checkpoint's config.
    static func parse(_ r: ConfigReader) throws -> LossSpec? {
        let name = try r.string("loss", choices: allCases.map(\.rawValue) + (r.fromCheckpoint ? [swiftName] : []))
        return LossSpec(rawValue: name)
    }
}
