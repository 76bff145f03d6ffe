import Data
import NN

/// A training objective: the loss of a batch summed over its samples (the trainer divides by the
/// global batch's samples and `terms`, as PyTorch's mean does), for the `Trainer`, `Evaluator`
/// and custom loops. The config's `loss:` names the built-in ones; any closure is one too:
///
/// ```swift
/// let huber = Loss(name: "huber") { output, batch in
///     let d = output - batch.targets!
///     return (d * d + 1).sqrt().sum() - Float(d.count)
/// }
/// ```
public struct Loss: Sendable {
    /// A name for messages and logs.
    public let name: String
    /// Loss terms per sample of a dataset: the divisor that makes the sum a per-sample mean.
    let terms: @Sendable (Dataset) -> Int
    private let summed: @Sendable (Tensor, Batch) -> Tensor
    /// The built-in loss this is, if it is one (the trainer checks its targets before training).
    let spec: LossSpec?

    /// A loss from a closure returning the batch's loss summed over its samples (a one-element
    /// tensor); `termsPerSample` divides it further (the positions of a sequence, for example).
    public init(
        name: String, termsPerSample: Int = 1, _ sum: @escaping @Sendable (_ output: Tensor, _ batch: Batch) -> Tensor
    ) {
        precondition(termsPerSample > 0, "Loss: termsPerSample must be positive, got \(termsPerSample)")
        self.name = name
        terms = { _ in termsPerSample }
        summed = sum
        spec = nil
    }

    init(_ spec: LossSpec) {
        name = spec.rawValue
        terms = { spec.termsPerSample(of: $0) }
        summed = { spec.sum($0, $1) }
        self.spec = spec
    }

    /// Cross-entropy of logits against class labels (sequences: every position against its token).
    public static let crossEntropy = Loss(.crossEntropy)
    /// Mean squared error against the batch's targets.
    public static let mse = Loss(.mse)
    /// Binary cross-entropy of logits against the batch's targets.
    public static let bceWithLogits = Loss(.bceWithLogits)

    /// The batch's loss, summed over its samples.
    public func callAsFunction(_ output: Tensor, _ batch: Batch) -> Tensor { summed(output, batch) }
}

extension LossSpec {
    /// The objective this config entry names.
    public var loss: Loss { Loss(self) }

    /// Loss terms per sample on `dataset`'s targets (the divisor of PyTorch's mean): 1 per class
    /// label, every position of a sequence, every value of an elementwise target.
    func termsPerSample(of dataset: Dataset) -> Int {
        switch dataset.targets {
        case .values(_, let w): return termsPerSample(targetWidth: w)
        case .tokens(_, _, let length): return length
        case .classes(_, let classes): return termsPerSample(targetWidth: classes)
        }
    }
}
