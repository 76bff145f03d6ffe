@_exported import Tensor

/// A layer or a network of layers: PyTorch's `nn.Module`, reduced to what training needs.
///
/// Parameters are named as in PyTorch's `state_dict`: a module's own parameters by their local
/// names ("weight", "bias"), its children's prefixed with the child's name and a dot ("1.weight").
public protocol Module: AnyObject {
    /// Applies the module.
    func callAsFunction(_ x: Tensor) -> Tensor
    /// Own parameters, in registration order.
    var localParameters: NamedTensors { get }
    /// Own buffers: saved and restored with the parameters but not trained (running statistics).
    var localBuffers: NamedTensors { get }
    /// Names of the own buffers that are integer counters (saved as I64, as PyTorch writes them).
    var localCounterNames: Set<String> { get }
    /// Child modules and their names, in order.
    var children: [(name: String, module: Module)] { get }
    /// Training mode (dropout active) or evaluation mode.
    var isTraining: Bool { get set }
    /// Output shape for an input shape (batch axis included); a `ShapeError` when it does not fit.
    func outputShape(for input: [Int]) throws -> [Int]
}

extension Module {
    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors { [] }
    /// This layer's own non-trainable state (saved in checkpoints, not optimized).
    public var localBuffers: NamedTensors { [] }
    /// Buffers that are integer counters (written as I64, as PyTorch does).
    public var localCounterNames: Set<String> { [] }
    /// Sub-layers with the names PyTorch gives them.
    public var children: [(name: String, module: Module)] { [] }

    /// Every parameter with its dotted PyTorch name, in registration order.
    public var namedParameters: NamedTensors {
        var out = localParameters
        for (childName, child) in children {
            out += child.namedParameters.map { (name: childName + "." + $0.name, tensor: $0.tensor) }
        }
        return out
    }

    /// Every buffer with its dotted PyTorch name, in registration order.
    public var namedBuffers: NamedTensors {
        var out = localBuffers
        for (childName, child) in children {
            out += child.namedBuffers.map { (name: childName + "." + $0.name, tensor: $0.tensor) }
        }
        return out
    }

    /// Dotted names of every counter buffer (BatchNorm's num_batches_tracked).
    public var counterNames: Set<String> {
        var out = localCounterNames
        for (childName, child) in children { out.formUnion(child.counterNames.map { childName + "." + $0 }) }
        return out
    }

    /// Every parameter, in registration order.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Clears every parameter's gradient (keeping the buffers, which may be bucket views).
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Calls `body` on this module and every descendant, parents first.
    public func visit(_ body: (Module) -> Void) {
        body(self)
        for (_, c) in children { c.visit(body) }
    }

    /// Switches this module and its descendants to training mode.
    public func train() { visit { $0.isTraining = true } }
    /// Switches this module and its descendants to evaluation mode.
    public func eval() { visit { $0.isTraining = false } }
}

/// A module whose output depends on random draws (dropout): they come from the counter-based
/// generator keyed by the context, so a sample gets the same draw on whichever rank runs it.
public protocol StochasticModule: Module {
    var randomContext: RandomContext { get set }
}

/// What keys a training step's random draws: the run's seed, the step, and the dataset index of
/// each row of the local batch.
public struct RandomContext: Sendable {
    /// The run's seed.
    public var seed: UInt64
    /// The optimizer step (fresh masks every step).
    public var step: Int
    /// Dataset index of each row of the batch; nil means rows 0..<N.
    public var sampleIDs: [Int]?
    /// A context for `step`; `sampleIDs` key each row's draws.
    public init(seed: UInt64 = 0, step: Int = 0, sampleIDs: [Int]? = nil) {
        self.seed = seed
        self.step = step
        self.sampleIDs = sampleIDs
    }
}

extension Module {
    /// Sets the random context of every stochastic descendant.
    public func setRandomContext(_ context: RandomContext) {
        visit { if let s = $0 as? StochasticModule { s.randomContext = context } }
    }
}

/// Where a layer's initial parameters come from: the seed and the layer's position.
public struct InitKey: Sendable {
    /// The run's seed.
    public var seed: UInt64
    /// The layer's number in the model (keys its draws).
    public var layer: UInt32
    /// A key for layer `layer` of a model seeded `seed`.
    public init(seed: UInt64 = 0, layer: UInt32 = 0) {
        self.seed = seed
        self.layer = layer
    }

    /// The key of a module nested in this layer (a Transformer's projections): its own stream of
    /// draws, as residual blocks number theirs.
    public func nested(_ index: UInt32) -> InitKey { InitKey(seed: seed, layer: layer &* 1000 &+ index) }

    /// Normal(0, std) values for parameter number `param` of the layer.
    public func normal(_ shape: [Int], std: Float, param: UInt32) -> Tensor {
        Tensor.randomNormal(
            shape, std: std, seed: seed, purpose: .initialization, layer: layer, stream: param, requiresGrad: true)
    }

    /// Uniform(-bound, bound) values for parameter number `param` of the layer.
    public func uniform(_ shape: [Int], bound: Float, param: UInt32) -> Tensor {
        Tensor.randomUniform(
            shape, low: -bound, high: bound, seed: seed, purpose: .initialization,
            layer: layer, stream: param, requiresGrad: true)
    }
}
