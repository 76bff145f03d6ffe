import Data
import Distributed
import Foundation
import NN

extension Trainer {
    /// Which data `evaluate` runs on.
    public enum Split: Sendable { case train, test }

    /// Loss (and accuracy) on a split: every sample exactly once across ranks (no augmentation).
    /// The split is cut into fixed blocks of eval_batch_size; ranks take contiguous runs of
    /// blocks, each block's loss gets its own slot in one allreduce, and the slots are added in
    /// block order: the result does not depend on the number of ranks.
    public func evaluate(split: Split = .test) throws -> MetricSums {
        let builder = split == .test ? testBatches : trainBatches
        let n = builder.dataset.count
        let size = config.train.evalBatchSize
        let blocks = (n + size - 1) / size
        let mine = Partition.share(blocks, part: communicator.rank, parts: communicator.size)
        var message = [Double](repeating: 0, count: 2 + blocks)  // correct, count, loss per block
        model.eval()
        defer { model.train() }
        withoutGrad {
            for b in mine {
                let batch = builder.make(ids: Array(b * size..<min((b + 1) * size, n)), epoch: 0, augment: false)
                let (loss, correct) = lossSum(model(batch.x), batch)
                message[2 + b] = Double(loss.item) / Double(lossTermsPerSample)
                message[0] += correct
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

    /// Model outputs (logits or values) for inputs shaped like the training samples.
    public func predict(_ x: Tensor) -> Tensor {
        model.eval()
        defer { model.train() }
        return withoutGrad { model(x) }
    }

    func evaluateAndLog(epoch: Int) throws {
        let t = try evaluate()
        lastTest = (t, step)
        if data.test.classCount != nil { keeper?.recordTest(accuracy: t.accuracy, step: step) }
        let r = MetricsRecord(
            step: step, epoch: epoch, split: "test", loss: t.meanLoss,
            accuracy: data.test.classCount != nil ? t.accuracy : nil, samplesPerSecond: nil, lr: nil,
            time: ProcessInfo.processInfo.systemUptime - startTime, samples: Int(t.count))
        metricsLog?.append(r)
        onEvent?(.test(r))
        if rank0 {
            progress.line(
                "test  step \(step)  epoch \(epoch + 1)  loss \(fmt(t.meanLoss, 4))"
                    + (r.accuracy.map { "  accuracy \(fmt($0, 4))" } ?? "") + "  (\(Int(t.count)) samples)")
        }
    }
}
