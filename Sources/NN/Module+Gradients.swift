/// The value of `loss` and its gradients with respect to `model`'s trainable parameters, by
/// their dotted names (mlx-swift's `valueAndGrad`): `loss` runs the model and returns a
/// one-element tensor; backward runs once.
///
/// The gradients are fresh tensors owned by the result. The parameters' own `grad` (which a
/// `Trainer` or a `DataParallel` points into its buffers) and their hooks are restored as they
/// were: this call neither adds to them nor starts any communication.
public func valueAndGradients(
    of model: Module, _ loss: () throws -> Tensor
) rethrows -> (value: Float, gradients: Gradients) {
    let trainable = model.namedParameters.filter(\.tensor.requiresGrad)
    let saved = trainable.map { (grad: $0.tensor.grad, hook: $0.tensor.onGradReady) }
    for (_, p) in trainable {
        p.grad = nil
        p.onGradReady = nil
    }
    defer {
        for ((_, p), s) in zip(trainable, saved) {
            p.grad = s.grad
            p.onGradReady = s.hook
        }
    }
    let value = try loss()
    precondition(value.count == 1, "valueAndGradients: the loss has shape \(value.shape), not one element")
    if value.requiresGrad { value.backward() }
    // A parameter the loss does not reach gets a zero gradient, as the optimizer expects one.
    let named = trainable.map { (name: $0.name, tensor: $0.tensor.grad ?? Tensor(zeros: $0.tensor.shape)) }
    return (value.item, Gradients(named))
}
