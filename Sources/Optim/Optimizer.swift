import Foundation
@_exported import Tensor

/// A problem with saved optimizer state (restoring a checkpoint).
public struct OptimizerStateError: Error, CustomStringConvertible {
    /// What is wrong with the state.
    public let message: String
    /// The message as one line.
    public var description: String { message }
}

/// Updates parameters from their gradients. State (moments, buffers) is kept per parameter and
/// named after it as PyTorch names its state ("1.weight.exp_avg"), so it can be saved and
/// restored exactly.
///
/// Open for your own: subclass it, name the per-parameter state buffers in `stateNames` and the
/// optimizer in `name`, and write `update` over raw buffers (SGD, RMSprop and Adam are examples).
/// The state is then saved in checkpoints, restored on resume and broadcast to every rank like
/// the built-in optimizers' state; pass an instance to `Trainer(model:data:config:...)`.
open class Optimizer {
    /// The trainable parameters, with their model names. Frozen ones (`requiresGrad == false`)
    /// are left out: never updated (not even by weight decay) and without state.
    public let parameters: NamedTensors
    /// Learning rate of the next step (a schedule may change it between steps).
    public var learningRate: Float
    /// Steps taken so far (set when restoring state).
    public var stepCount = 0
    /// State buffers per parameter, in `stateNames` order.
    var state: [[Tensor]] = []

    /// An optimizer of `parameters`' trainable ones (requiresGrad), each with zeroed state buffers.
    public init(_ parameters: NamedTensors, learningRate: Float) {
        precondition(learningRate >= 0, "optimizer: learning rate must not be negative, got \(learningRate)")
        let trainable = parameters.filter { $0.tensor.requiresGrad }
        self.parameters = trainable
        self.learningRate = learningRate
        state = trainable.map { p in stateNames.map { _ in Tensor(zeros: p.tensor.shape) } }
    }

    /// Names of the per-parameter state buffers ("exp_avg", ...): each is a zeroed tensor of its
    /// parameter's shape, handed to `update` in this order. Fixed for the optimizer's lifetime.
    open var stateNames: [String] { [] }
    /// PyTorch's name for this optimizer (checked when state is restored).
    open var name: String { "optimizer" }

    /// Applies one update to every parameter that has a gradient.
    public func step() {
        stepCount += 1
        withoutGrad {
            for (i, p) in parameters.enumerated() {
                guard let g = p.tensor.grad else { continue }
                update(p.tensor.data, g.data, state[i].map(\.data), p.tensor.count)
            }
        }
    }

    /// Applies one update from `gradients` (by parameter name; a parameter without one is left
    /// as it is), as `step()` does from the parameters' `grad`. The gradient buffers may be
    /// changed by the update (SGD adds weight decay into them), as in `step()`.
    public func update(_ gradients: Gradients) {
        stepCount += 1
        let byName = Dictionary(gradients.named.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        withoutGrad {
            for (i, p) in parameters.enumerated() {
                guard let g = byName[p.name] else { continue }
                precondition(
                    g.count == p.tensor.count,
                    "Optimizer.update: gradient \(p.name) has shape \(g.shape), not \(p.tensor.shape)")
                update(p.tensor.data, g.data, state[i].map(\.data), p.tensor.count)
            }
        }
    }

    /// One parameter's update over raw buffers: its values `p`, gradient `g` and state buffers
    /// `s` (in `stateNames` order), `n` floats each; `learningRate` and `stepCount` (already
    /// counting this step) are current. Subclasses implement it.
    open func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
        _ s: [UnsafeMutablePointer<Float>], _ n: Int
    ) {
        fatalError("\(type(of: self)) must implement update")
    }

    /// Every state buffer, parameter by parameter (for broadcasting restored state).
    public var stateTensors: [Tensor] { state.flatMap { $0 } }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.tensor.zeroGrad() } }

    /// State tensors named "<param>.<buffer>", and metadata (kind, step count) as strings.
    public func stateDict() -> (tensors: NamedTensors, metadata: [String: String]) {
        var tensors: NamedTensors = []
        for (i, p) in parameters.enumerated() {
            for (k, s) in stateNames.enumerated() { tensors.append((p.name + "." + s, state[i][k].detached())) }
        }
        return (tensors, ["optimizer": name, "step": String(stepCount)])
    }

    /// Restores what `stateDict` saved; every name and shape must match.
    public func loadStateDict(
        _ tensors: NamedTensors, metadata: [String: String],
        source: String
    ) throws {
        guard metadata["optimizer"] == name else {
            throw OptimizerStateError(
                message: "\(source): optimizer state is for '\(metadata["optimizer"] ?? "?")', this run uses '\(name)'")
        }
        // Bounded: the count travels as a Double in the resume broadcast and feeds bias corrections.
        guard let steps = metadata["step"].flatMap(Int.init), (0...(1 << 40)).contains(steps) else {
            throw OptimizerStateError(
                message:
                    "\(source): optimizer step count '\(metadata["step"]?.prefix(40) ?? "")' is missing or outside "
                    + "0...\(1 << 40)"
            )
        }
        let byName = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var expected = Set<String>()
        for (i, p) in parameters.enumerated() {
            for (k, s) in stateNames.enumerated() {
                let key = p.name + "." + s
                expected.insert(key)
                guard let t = byName[key] else {
                    throw OptimizerStateError(message: "\(source): missing optimizer state \(key)")
                }
                guard t.shape == p.tensor.shape else {
                    throw OptimizerStateError(
                        message:
                            "\(source): optimizer state \(key) has shape \(t.shape), parameter has \(p.tensor.shape)")
                }
                state[i][k].assign(t)
            }
        }
        if let extra = tensors.map(\.name).first(where: { !expected.contains($0) }) {
            throw OptimizerStateError(message: "\(source): unexpected optimizer state \(extra)")
        }
        stepCount = steps
    }
}
