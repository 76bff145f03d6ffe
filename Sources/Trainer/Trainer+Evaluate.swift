import Data
import Distributed
import Foundation
import NN

extension Trainer {
    /// Which data `evaluate` runs on.
    public enum Split: String, CaseIterable, Sendable { case train, validation, test }

    /// Loss (and accuracy) on a split, independent of the number of ranks (see `Evaluator`).
    public func evaluate(split: Split = .test) throws -> MetricSums {
        let evaluator = Evaluator(
            model: model, loss: loss, communicator: communicator,
            blockSize: config.train.evalBatchSize)
        switch split {
        case .train: return try evaluator.evaluate(stream.train)
        case .test: return try evaluator.evaluate(stream.test)
        case .validation:
            guard let v = stream.validation else {
                throw TrainerError("tandem: the run has no validation data (set data.validation_split)")
            }
            return try evaluator.evaluate(v)
        }
    }

    /// Model outputs (logits or values) for inputs shaped like the training samples.
    public func predict(_ x: Tensor) -> Tensor {
        model.eval()
        defer { model.train() }
        return withoutGrad { model(x) }
    }

    /// The evaluation at an epoch end (or every `eval_every_steps`): the validation split where
    /// there is one (keep_best and early stopping watch it; the test split waits for the end),
    /// the test split otherwise.
    func evaluateDuringTraining(epoch: Int) throws {
        guard data.validation != nil else {
            try evaluateTest(epoch: epoch)
            return
        }
        let v = try evaluate(split: .validation)
        lastValidation = v
        keeper?.recordValidation(v, step: step)
        if let es = config.train.earlyStopping {
            let value = es.monitor.value(of: v)
            let improved = MonitorState.record(
                &earlyStop, value, step: step, monitor: es.monitor, minDelta: es.minDelta)
            if improved && es.restoreBest { bestWeights = model.stateDict.map { $0.tensor.detached() } }
            stoppedEarly = (earlyStop?.stale ?? 0) >= es.patience
        }
        log(split: .validation, v, epoch: epoch)
    }

    /// The last steps of a run with validation data: early stopping's best weights back (when
    /// asked), then the test split, once.
    func finishWithTest(epoch: Int) throws {
        if let es = config.train.earlyStopping, let best = earlyStop {
            var note = ""
            if stoppedEarly {
                note =
                    "early stopping at step \(step): \(es.monitor.rawValue) did not improve by more than "
                    + "\(es.minDelta) for \(best.stale) evaluation(s); best \(fmt(best.best, 4)) at step \(best.step)"
            }
            if es.restoreBest, let bestWeights {
                for ((_, t), b) in zip(model.stateDict, bestWeights) { t.assign(b) }
                note += (note.isEmpty ? "" : "; ") + "restored the weights of step \(best.step)"
                if !stoppedEarly { note += " (best \(es.monitor.rawValue) \(fmt(best.best, 4)))" }
            }
            if rank0 && !note.isEmpty { log.notice("\(note)") }
            if stoppedEarly { onEvent?(.earlyStopped(step: step, bestStep: best.step)) }
        }
        try evaluateTest(epoch: epoch)
    }

    func evaluateTest(epoch: Int) throws {
        let t = try evaluate(split: .test)
        lastTest = (t, step)
        log(split: .test, t, epoch: epoch)
    }

    /// One evaluation's line in metrics.jsonl, its event, and its console line.
    func log(split: Split, _ sums: MetricSums, epoch: Int) {
        let classes = data.train.classCount != nil
        let r = MetricsRecord(
            step: step, epoch: epoch, split: split.rawValue, loss: sums.meanLoss,
            accuracy: classes ? sums.accuracy : nil, samplesPerSecond: nil, lr: nil,
            time: ProcessInfo.processInfo.systemUptime - startTime, samples: Int(sums.count))
        metricsLog?.append(r)
        onEvent?(split == .test ? .test(r) : .validation(r))
        if rank0 {
            let name = split == .test ? "test " : "valid"
            progress.line(
                "\(name) step \(step)  epoch \(epoch + 1)  loss \(fmt(sums.meanLoss, 4))"
                    + (r.accuracy.map { "  accuracy \(fmt($0, 4))" } ?? "") + "  (\(Int(sums.count)) samples)")
        }
    }
}
