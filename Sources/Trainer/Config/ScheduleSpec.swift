import Optim

/// The learning-rate schedule (`optimizer.schedule` and its keys). Built into an `LRSchedule`
/// once per run, when the number of steps is known.
public enum ScheduleSpec: Equatable, Sendable {
    case constant
    /// lr * gamma^(step / every), as PyTorch's StepLR.
    case step(every: Int, gamma: Float = 0.1)
    /// Linear warm-up, then a cosine to `minLR` at the last step.
    case cosine(warmup: Int = 0, minLR: Float = 0)

    static let names = ["constant", "step", "cosine"]

    /// The schedule for a run of `totalSteps` optimizer steps.
    func make(totalSteps: Int) -> LRSchedule {
        switch self {
        case .constant: return .constant
        case .step(let every, let gamma): return .stepDecay(every: every, gamma: gamma)
        case .cosine(let warmup, let minLR): return .cosine(warmup: warmup, total: totalSteps, minimum: minLR)
        }
    }

    /// Reads `schedule` and its keys from the optimizer section.
    static func parse(_ o: ConfigReader) throws -> ScheduleSpec {
        switch try o.string("schedule", default: "constant", choices: names) {
        case "step":
            return .step(
                every: try o.int("step_every", range: 1...Int.max),
                gamma: try o.float("gamma", default: 0.1, "in (0, 1]") { $0 > 0 && $0 <= 1 })
        case "cosine":
            return .cosine(
                warmup: try o.int("warmup_steps", default: 0, range: 0...Int.max),
                minLR: try o.float("min_lr", default: 0, "at least 0") { $0 >= 0 })
        default:
            return .constant
        }
    }

    /// Its keys in the optimizer section.
    var configValue: [String: Any] {
        switch self {
        case .constant: return ["schedule": "constant"]
        case .step(let every, let gamma): return ["schedule": "step", "step_every": every, "gamma": decimal(gamma)]
        case .cosine(let warmup, let minLR):
            return ["schedule": "cosine", "warmup_steps": warmup, "min_lr": decimal(minLR)]
        }
    }
}
