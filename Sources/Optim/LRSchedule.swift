import Foundation

/// Learning rate as a function of the step about to be taken (0-based).
public enum LRSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// base * gamma^(step / every), as PyTorch's StepLR.
    case stepDecay(every: Int, gamma: Float)
    /// Linear warm-up from base/warmup to base over `warmup` steps, then a cosine to `minimum` at `total`.
    case cosine(warmup: Int, total: Int, minimum: Float)

    /// The rate for `step`.
    public func learningRate(base: Float, step: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .stepDecay(let every, let gamma):
            return base * Foundation.pow(gamma, Float(step / Swift.max(every, 1)))
        case .cosine(let warmup, let total, let minimum):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = Swift.max(total - warmup, 1)
            let progress = Float(Swift.min(step - warmup, span)) / Float(span)
            return minimum + (base - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
        }
    }
}
