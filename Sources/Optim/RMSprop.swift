/// RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8), optional momentum and centering.
public final class RMSprop: Optimizer {
    public let alpha: Float, epsilon: Float, weightDecay: Float, momentum: Float, centered: Bool

    /// RMSprop over `parameters`, with PyTorch's defaults.
    public init(
        _ parameters: NamedTensors, learningRate: Float = 1e-2, alpha: Float = 0.99,
        epsilon: Float = 1e-8, weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false
    ) {
        precondition(
            alpha >= 0 && epsilon >= 0 && weightDecay >= 0 && momentum >= 0,
            "RMSprop: alpha, eps, weight decay and momentum must not be negative")
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        super.init(parameters, learningRate: learningRate)
    }

    override public var stateNames: [String] {
        ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
    }
    override public var name: String { "rmsprop" }

    override public func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
        _ s: [UnsafeMutablePointer<Float>], _ n: Int
    ) {
        let a = alpha
        let eps = epsilon
        let lr = learningRate
        let wd = weightDecay
        let mu = momentum
        let sq = s[0]
        let buf = momentum > 0 ? s[1] : nil
        let gavg = centered ? s[s.count - 1] : nil
        for i in 0..<n {
            let gi = g[i] + wd * p[i]
            sq[i] = a * sq[i] + (1 - a) * gi * gi
            var avg = sq[i]
            if let gavg {
                gavg[i] = a * gavg[i] + (1 - a) * gi
                avg -= gavg[i] * gavg[i]
            }
            let denom = avg.squareRoot() + eps
            if let buf {
                buf[i] = mu * buf[i] + gi / denom
                p[i] -= lr * buf[i]
            } else {
                p[i] -= lr * gi / denom
            }
        }
    }
}
