import NN
import Optim

/// `optimizer:` in a config: the algorithm with its own settings, the learning rate, its schedule,
/// weight decay and gradient clipping. Parsing, encoding and building the `Optimizer` live here,
/// so adding an algorithm touches this file only.
public struct OptimizerSpec: Equatable, Sendable {
    /// The optimizer and the settings only it has.
    public enum Algorithm: Equatable, Sendable {
        case sgd(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false)
        case adam(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8)
        /// Adam with decoupled weight decay (default 0.01), as PyTorch's AdamW.
        case adamw(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8)
        case rmsprop(alpha: Float = 0.99, eps: Float = 1e-8, momentum: Float = 0)
        /// An `Optimizer` given from Swift, by its `name`: only in a checkpoint's config (resume
        /// checks the name; the instance comes from the code that resumes).
        case swift(name: String)

        /// The config's name for it.
        public var name: String {
            switch self {
            case .sgd: return "sgd"
            case .adam: return "adam"
            case .adamw: return "adamw"
            case .rmsprop: return "rmsprop"
            case .swift(let name): return name
            }
        }

        static let names = ["sgd", "adam", "adamw", "rmsprop"]
    }

    /// The algorithm and its own settings.
    public var algorithm: Algorithm
    /// The base learning rate.
    public var lr: Float
    /// nil: the algorithm's default (0.01 for adamw, 0 otherwise).
    public var weightDecay: Float?
    /// How the rate changes over steps.
    public var schedule: ScheduleSpec = .constant
    /// Clip the global gradient norm to this.
    public var clipGradNorm: Float?

    /// An optimizer setting.
    public init(
        _ algorithm: Algorithm, lr: Float, weightDecay: Float? = nil, schedule: ScheduleSpec = .constant,
        clipGradNorm: Float? = nil
    ) {
        self.algorithm = algorithm
        self.lr = lr
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.clipGradNorm = clipGradNorm
    }

    /// The algorithm's config name.
    public var name: String { algorithm.name }

    /// The weight decay in effect.
    var decay: Float {
        if let weightDecay { return weightDecay }
        if case .adamw = algorithm { return 0.01 }
        return 0
    }

    /// The optimizer over `parameters` (frozen ones are left out by `Optimizer` itself); nil for
    /// one given from Swift.
    func make(_ parameters: NamedTensors) -> Optimizer? {
        switch algorithm {
        case .swift: return nil
        case .sgd(let momentum, let dampening, let nesterov):
            return SGD(
                parameters, learningRate: lr, momentum: momentum, dampening: dampening, nesterov: nesterov,
                weightDecay: decay)
        case .adam(let beta1, let beta2, let eps):
            return Adam(parameters, learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: decay)
        case .adamw(let beta1, let beta2, let eps):
            return Adam.adamW(
                parameters, learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: decay)
        case .rmsprop(let alpha, let eps, let momentum):
            return RMSprop(
                parameters, learningRate: lr, alpha: alpha, epsilon: eps, weightDecay: decay, momentum: momentum)
        }
    }

    /// Reads the `optimizer` section (keys depend on the algorithm, as in PyTorch's constructors).
    static func parse(_ o: ConfigReader) throws -> OptimizerSpec {
        let name = try o.string("name", choices: Algorithm.names + (o.fromCheckpoint ? ["swift"] : []))
        let lr = try o.float("lr", default: nil, "positive") { $0 > 0 }
        func momentum() throws -> Float { try o.float("momentum", default: 0, "in [0, 1)") { $0 >= 0 && $0 < 1 } }
        func eps() throws -> Float { try o.float("eps", default: 1e-8, "positive") { $0 > 0 } }
        func betas() throws -> (Float, Float) {
            guard o.has("betas") else {
                o.accept("betas")
                return (0.9, 0.999)
            }
            let b = try o.list("betas")
            guard b.count == 2, let b1 = ConfigReader.number(b[0]), let b2 = ConfigReader.number(b[1]),
                (0..<1).contains(b1), (0..<1).contains(b2)
            else {
                throw o.error("betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]")
            }
            return (Float(b1), Float(b2))
        }
        let algorithm: Algorithm
        switch name {
        case "swift": algorithm = .swift(name: try o.string("optimizer"))
        case "sgd":
            let m = try momentum()
            let dampening = try o.float("dampening", default: 0, "in [0, 1]") { $0 >= 0 && $0 <= 1 }
            let nesterov = try o.bool("nesterov", default: false)
            if nesterov && (m == 0 || dampening != 0) {
                throw o.error("nesterov", "needs momentum > 0 and dampening 0")
            }
            algorithm = .sgd(momentum: m, dampening: dampening, nesterov: nesterov)
        case "rmsprop":
            let m = try momentum()
            let e = try eps()
            algorithm = .rmsprop(
                alpha: try o.float("alpha", default: 0.99, "in [0, 1)") { $0 >= 0 && $0 < 1 }, eps: e, momentum: m)
        default:
            let (b1, b2) = try betas()
            let e = try eps()
            algorithm = name == "adamw" ? .adamw(beta1: b1, beta2: b2, eps: e) : .adam(beta1: b1, beta2: b2, eps: e)
        }
        var spec = OptimizerSpec(algorithm, lr: lr)
        if o.has("weight_decay") {  // absent: the algorithm's default (`decay`)
            spec.weightDecay = try o.float("weight_decay", default: nil, "at least 0") { $0 >= 0 }
        } else {
            o.accept("weight_decay")
        }
        spec.schedule = try ScheduleSpec.parse(o)
        if o.has("clip_grad_norm") {
            spec.clipGradNorm = try o.float("clip_grad_norm", default: nil, "positive") { $0 > 0 }
        } else {
            o.accept("clip_grad_norm")
        }
        try o.finish()
        return spec
    }

    /// The section as `parse` reads it.
    var configValue: [String: Any] {
        var v: [String: Any] = ["name": name, "lr": decimal(lr)]
        switch algorithm {
        case .sgd(let momentum, let dampening, let nesterov):
            v["momentum"] = decimal(momentum)
            v["dampening"] = decimal(dampening)
            v["nesterov"] = nesterov
        case .adam(let beta1, let beta2, let eps), .adamw(let beta1, let beta2, let eps):
            v["betas"] = [decimal(beta1), decimal(beta2)]
            v["eps"] = decimal(eps)
        case .rmsprop(let alpha, let eps, let momentum):
            v["alpha"] = decimal(alpha)
            v["eps"] = decimal(eps)
            v["momentum"] = decimal(momentum)
        case .swift(let name):
            v["name"] = "swift"
            v["optimizer"] = name
        }
        if let weightDecay { v["weight_decay"] = decimal(weightDecay) }
        if let clipGradNorm { v["clip_grad_norm"] = decimal(clipGradNorm) }
        return v.merging(schedule.configValue) { a, _ in a }
    }
}
