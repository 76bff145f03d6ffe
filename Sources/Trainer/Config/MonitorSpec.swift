/// A validation metric that training watches (keep_best, early stopping), and which way is better.
public enum Monitor: String, CaseIterable, Sendable {
    case validationLoss = "validation_loss"
    case validationAccuracy = "validation_accuracy"

    /// The watched figure of a validation result.
    func value(of sums: MetricSums) -> Double {
        self == .validationLoss ? sums.meanLoss : sums.accuracy
    }

    /// Whether `value` beats `best` by more than `minDelta` (lower loss, higher accuracy, as Keras).
    func improves(_ value: Double, on best: Double?, minDelta: Double = 0) -> Bool {
        guard value.isFinite else { return false }
        guard let best else { return true }
        return self == .validationLoss ? value < best - minDelta : value > best + minDelta
    }

    static func parse(_ r: ConfigReader, default d: Monitor = .validationLoss) throws -> Monitor {
        Monitor(rawValue: try r.string("monitor", default: d.rawValue, choices: allCases.map(\.rawValue))) ?? d
    }
}

/// `train.early_stopping`: stop when the monitored validation figure has not improved by more
/// than `minDelta` for `patience` evaluations in a row (Keras' EarlyStopping).
public struct EarlyStopping: Equatable, Sendable {
    /// The figure watched.
    public var monitor = Monitor.validationLoss
    /// Evaluations without improvement before stopping.
    public var patience = 3
    /// The smallest change that counts as an improvement.
    public var minDelta = 0.0
    /// Put the weights of the best evaluation back into the model when stopping (and at the end).
    public var restoreBest = false
    /// Keras' defaults: validation_loss, patience 3, min_delta 0, no restore.
    public init() {}

    static func parse(_ r: ConfigReader) throws -> EarlyStopping {
        var e = EarlyStopping()
        e.monitor = try Monitor.parse(r)
        e.patience = try r.int("patience", default: 3, range: 1...1_000_000)
        e.minDelta = try r.double("min_delta", default: 0, "at least 0") { $0 >= 0 }
        e.restoreBest = try r.bool("restore_best", default: false)
        try r.finish()
        return e
    }

    var configValue: [String: Any] {
        ["monitor": monitor.rawValue, "patience": patience, "min_delta": minDelta, "restore_best": restoreBest]
    }
}

/// The best value a monitor has seen, the step it was seen at, and the evaluations since then
/// that did not improve on it. Saved in checkpoints so a resumed run decides the same way.
public struct MonitorState: Codable, Equatable, Sendable {
    /// The best value seen.
    public var best: Double
    /// The step it was seen at.
    public var step: Int
    /// Evaluations since, without improvement.
    public var stale: Int

    /// A state from its parts.
    public init(best: Double, step: Int, stale: Int) {
        self.best = best
        self.step = step
        self.stale = stale
    }

    /// Takes a new evaluation at `step`; returns whether it improved.
    static func record(
        _ state: inout MonitorState?, _ value: Double, step: Int, monitor: Monitor, minDelta: Double = 0
    ) -> Bool {
        if monitor.improves(value, on: state?.best, minDelta: minDelta) {
            state = MonitorState(best: value, step: step, stale: 0)
            return true
        }
        state?.stale += 1
        return false
    }

    /// Ranges checked before a checkpoint's state is used.
    func problems(_ name: String) -> [String] {
        guard best.isFinite, (0...CheckpointManifest.maxStep).contains(step),
            (0...CheckpointManifest.maxStep).contains(stale)
        else { return ["\(name) \(best)/\(step)/\(stale) is not a finite best value with a step and a count"] }
        return []
    }
}
