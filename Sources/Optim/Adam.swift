import Foundation

/// Adam (Kingma & Ba) with PyTorch's defaults and update; `decoupled` makes it AdamW.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// AdamW: decay the weights directly instead of adding to the gradient.
    public let decoupled: Bool

    /// Adam (or AdamW with `decoupled`) over `parameters`, with PyTorch's defaults.
    public init(
        _ parameters: NamedTensors, learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decoupled: Bool = false
    ) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        precondition(epsilon >= 0 && weightDecay >= 0, "Adam: eps and weight decay must not be negative")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        super.init(parameters, learningRate: learningRate)
    }

    /// AdamW with PyTorch's default weight decay of 0.01.
    public static func adamW(
        _ parameters: NamedTensors, learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01
    ) -> Adam {
        Adam(
            parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decoupled: true)
    }

    override public var stateNames: [String] { ["exp_avg", "exp_avg_sq"] }
    override public var name: String { decoupled ? "adamw" : "adam" }

    // One fused, vectorizable pass: moments, bias correction and the parameter update.
    override public func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
        _ s: [UnsafeMutablePointer<Float>], _ n: Int
    ) {
        let t = Float(stepCount)
        let b1 = beta1
        let b2 = beta2
        let eps = epsilon
        let lr = learningRate
        let stepSize = lr / (1 - Foundation.pow(b1, t))
        let c2Sqrt = (1 - Foundation.pow(b2, t)).squareRoot()
        let wd = decoupled ? 0 : weightDecay
        let shrink = decoupled ? 1 - lr * weightDecay : 1
        VectorOps.adam(
            p, g, s[0], s[1], n, beta1: b1, beta2: b2, eps: eps, weightDecay: wd, shrink: shrink,
            stepSize: stepSize, c2Sqrt: c2Sqrt)
    }
}
