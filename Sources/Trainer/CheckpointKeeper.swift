import Foundation

/// Rank 0's checkpoint bookkeeping: the writer, which checkpoint is newest and which is best
/// (for keep_best), and pruning. Other ranks hold none (`Trainer.keeper` is nil there).
///
/// Sendable because the best-so-far fields are touched only by the training thread and
/// `bestCheckpoint` only on the writer's serial queue.
final class CheckpointKeeper: @unchecked Sendable {
    let directory: String
    let config: CheckpointConfig
    private let writer = CheckpointWriter()
    /// Best validation figure so far (of `config.monitor`), its step, and the checkpoint holding it.
    var best: MonitorState?
    private var bestCheckpoint: String?
    /// The checkpoint a resumed run started from.
    var resumedFrom: String?

    init(directory: String, config: CheckpointConfig) {
        self.directory = directory
        self.config = config
    }

    /// The newest checkpoint written, or the one resumed from.
    var last: String? { writer.lastWritten ?? resumedFrom }
    var firstFailure: String? { writer.firstFailure }

    /// Records a validation result at `step`; the best so far becomes the one keep_best keeps
    /// when a checkpoint is taken at that step.
    func recordValidation(_ sums: MetricSums, step: Int) {
        _ = MonitorState.record(&best, config.monitor.value(of: sums), step: step, monitor: config.monitor)
    }

    /// Queues a write; `isBest` marks it as the one keep_best keeps. `then` runs after success.
    func save(_ snapshot: CheckpointSnapshot, isBest: Bool, then: @escaping @Sendable (String) -> Void) {
        let keepLast = config.keepLast
        let directory = self.directory
        writer.submit(snapshot, into: directory) { [weak self] path in
            guard let self else { return }
            if isBest && self.config.keepBest { self.bestCheckpoint = path }
            Checkpoint.prune(in: directory, keepLast: keepLast, keep: self.bestCheckpoint)
            then(path)
        }
    }

    /// Waits for every queued write.
    func drain() { writer.drain() }
}
