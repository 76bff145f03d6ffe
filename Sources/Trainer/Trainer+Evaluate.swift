import Data
import Distributed
import Foundation
import NN

extension Trainer {
    /// Which data `evaluate` runs on.
    public enum Split: String, CaseIterable, Sendable { case train, test }

    /// Loss (and accuracy) on a split, independent of the number of ranks (see `Evaluator`).
    public func evaluate(split: Split = .test) throws -> MetricSums {
        let evaluator = Evaluator(
            model: model, loss: config.loss, communicator: communicator,
            blockSize: config.train.evalBatchSize)
        return try evaluator.evaluate(split == .test ? stream.test : stream.train)
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
