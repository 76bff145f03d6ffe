import Data
import Distributed
import Foundation
import NN

extension Trainer {
    /// Which data `evaluate` runs on.
    public enum Split: Sendable { case train, test }

    /// Loss (and accuracy) on a split: every sample exactly once across ranks (no augmentation),
    /// the sums added in Float64 and agreed by one allreduce.
    public func evaluate(split: Split = .test) throws -> MetricSums {
        let builder = split == .test ? testBatches : trainBatches
        let share = ShardedSampler.share(builder.dataset.count, part: communicator.rank, parts: communicator.size)
        var local = MetricSums()
        model.eval()
        defer { model.train() }
        withoutGrad {
            var start = share.lowerBound
            while start < share.upperBound {
                let end = min(start + config.train.evalBatchSize, share.upperBound)
                let batch = builder.make(ids: Array(start..<end), epoch: 0, augment: false)
                let (loss, correct) = lossSum(model(batch.x), batch)
                local.loss += Double(loss.item) / Double(lossTermsPerSample)
                local.correct += correct
                local.count += Double(batch.count)
                start = end
            }
        }
        return MetricSums(try communicator.at().allreduce(local.values))
    }

    /// Model outputs (logits or values) for inputs shaped like the training samples.
    public func predict(_ x: Tensor) -> Tensor {
        model.eval()
        defer { model.train() }
        return withoutGrad { model(x) }
    }

    var lastTestStep: Int { lastTestAt ?? -1 }

    func evaluateAndLog(epoch: Int) throws {
        let t = try evaluate()
        lastTest = t
        lastTestAt = step
        if data.test.classCount != nil, bestAccuracy == nil || t.accuracy > bestAccuracy! { bestAccuracy = t.accuracy }
        let r = MetricsRecord(step: step, epoch: epoch, split: "test", loss: t.meanLoss,
                              accuracy: data.test.classCount != nil ? t.accuracy : nil, samplesPerSecond: nil, lr: nil,
                              time: ProcessInfo.processInfo.systemUptime - startTime, samples: Int(t.count))
        metricsLog?.append(r)
        onEvent?(.test(r))
        if rank0 {
            progress.line("test  step \(step)  epoch \(epoch + 1)  loss \(fmt(t.meanLoss, 4))"
                          + (r.accuracy.map { "  accuracy \(fmt($0, 4))" } ?? "") + "  (\(Int(t.count)) samples)")
        }
    }
}
