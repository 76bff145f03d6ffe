/// Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay.
public final class SGD: Optimizer {
    public let momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float

    /// SGD with optional momentum, dampening and Nesterov, as PyTorch's.
    public init(
        _ parameters: NamedTensors, learningRate: Float, momentum: Float = 0,
        dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) {
        precondition(momentum >= 0 && weightDecay >= 0, "SGD: momentum and weight decay must not be negative")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and no dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        super.init(parameters, learningRate: learningRate)
    }

    override public var stateNames: [String] { momentum > 0 ? ["momentum_buffer"] : [] }
    override public var name: String { "sgd" }

    override public func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
        _ s: [UnsafeMutablePointer<Float>], _ n: Int
    ) {
        let lr = learningRate
        let wd = weightDecay
        let mu = momentum
        let damp = 1 - dampening
        guard mu > 0 else {
            for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
            return
        }
        let buf = s[0]
        let first = stepCount == 1  // PyTorch starts the buffer at the first gradient
        for i in 0..<n {
            let d = g[i] + wd * p[i]
            let b = first ? d : mu * buf[i] + damp * d
            buf[i] = b
            p[i] -= lr * (nesterov ? d + mu * b : b)
        }
    }
}
