/// What a running Trainer reports to its observers (custom logging, dashboards, early stopping).
public enum TrainerEvent: Sendable {
    /// A training log interval ended (rank 0 and every other rank alike, with global figures).
    case train(MetricsRecord)
    /// An evaluation on the test split ended.
    case test(MetricsRecord)
    /// An evaluation on the validation split ended.
    case validation(MetricsRecord)
    /// Early stopping ended training at `step`; the best validation result was at `bestStep`.
    case earlyStopped(step: Int, bestStep: Int)
    /// A checkpoint folder was written (rank 0; called on the checkpoint writer's thread).
    case checkpoint(path: String, step: Int)
    /// Training stopped early on a signal, after checkpointing.
    case stopped(step: Int, signal: Int32)
}
