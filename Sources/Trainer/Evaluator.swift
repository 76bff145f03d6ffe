import Data
import Distributed
import NN

/// Loss (and accuracy) of a model on a dataset, every sample exactly once across ranks (no
/// augmentation). The data is cut into fixed blocks; ranks take contiguous runs of blocks, each
/// block's loss has its own slot in one allreduce, and the slots are added in block order: the
/// result does not depend on the number of ranks. Used by the trainer and by `tandem eval`.
public struct Evaluator {
    /// The model evaluated (in evaluation mode while it runs).
    public let model: Module
    /// The loss reported.
    public let loss: Loss
    /// The ranks sharing the work.
    public let communicator: Communicator
    /// Samples per block (fixed, so results do not depend on the rank count).
    public let blockSize: Int

    /// An evaluator of `model` with `loss` over `communicator`'s ranks.
    public init(model: Module, loss: Loss, communicator: Communicator, blockSize: Int) {
        self.model = model
        self.loss = loss
        self.communicator = communicator
        self.blockSize = max(blockSize, 1)
    }

    /// Global sums over every sample `batches` can make.
    public func evaluate(_ batches: BatchBuilder) throws -> MetricSums {
        let n = batches.dataset.count
        let blocks = (n + blockSize - 1) / blockSize
        let terms = loss.terms(batches.dataset)
        let mine = Partition.share(blocks, part: communicator.rank, parts: communicator.size)
        var message = [Double](repeating: 0, count: 2 + blocks)  // correct, count, loss per block
        model.eval()
        defer { model.train() }
        withoutGrad {
            for b in mine {
                let batch = batches.make(
                    ids: Array(b * blockSize..<min((b + 1) * blockSize, n)), epoch: 0, augment: false)
                let out = model(batch.x)
                message[2 + b] = Double(loss(out, batch).item) / Double(terms)
                message[0] += Evaluator.correct(out, batch)
                message[1] += Double(batch.count)
            }
        }
        let agreed = try communicator.at().allreduce(message)
        var sums = MetricSums()
        sums.correct = agreed[0]
        sums.count = agreed[1]
        for b in 0..<blocks { sums.loss += agreed[2 + b] }
        return sums
    }

    /// Samples whose highest score is their label (0 without labels); for sequences the share
    /// of a sample's positions whose highest score is the next token (next-token accuracy).
    static func correct(_ out: Tensor, _ batch: Batch) -> Double {
        guard !batch.labels.isEmpty else { return 0 }
        var correct = 0.0
        for (p, l) in zip(out.argmax(alongAxis: -1), batch.labels) where p == l { correct += 1 }
        return correct * Double(batch.count) / Double(batch.labels.count)
    }
}
