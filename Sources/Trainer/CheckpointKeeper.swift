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
    /// Best test accuracy so far, the step it was reached at, and the checkpoint that holds it.
    var bestAccuracy: Double?
    private(set) var bestStep: Int?
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

    /// Records a test accuracy at `step`; the best so far (ties go to the later one) becomes the
    /// one keep_best keeps when a checkpoint is taken at that step.
    func recordTest(accuracy: Double, step: Int) {
        guard bestAccuracy.map({ accuracy >= $0 }) ?? true else { return }
        bestAccuracy = accuracy
        bestStep = step
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
