/// Gradients of a loss with respect to named parameters: what `valueAndGradients(of:_:)` and
/// `DataParallel.gradients` return and what `Optimizer.update(_:)` applies.
///
/// A value: assigning or dropping entries changes nothing in the model or in a `DataParallel`'s
/// buffers (unlike assigning a parameter's `grad`). The tensors themselves are views that stay
/// valid until the next step of whatever produced them; `copied()` keeps them beyond it.
public struct Gradients {
    /// The gradients in parameter order, with the parameters' dotted names.
    public var named: NamedTensors
    /// Whether every value is finite (a step with a NaN or an infinity is usually skipped).
    public var isFinite: Bool

    /// Gradients from name-tensor pairs; `isFinite` is computed when not given.
    public init(_ named: NamedTensors, isFinite: Bool? = nil) {
        self.named = named
        self.isFinite = isFinite ?? named.allSatisfy { VectorOps.allFinite($0.tensor.data, $0.tensor.count) }
    }

    /// The gradient of the parameter `name`, if present.
    public subscript(name: String) -> Tensor? { named.first { $0.name == name }?.tensor }

    /// The names, in parameter order.
    public var names: [String] { named.map(\.name) }

    /// Copies that outlive the producer's next step.
    public func copied() -> Gradients { Gradients(named.map { ($0.name, $0.tensor.detached()) }, isFinite: isFinite) }

}
