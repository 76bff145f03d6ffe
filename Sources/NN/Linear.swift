/// y = x W^T + b with weight [out, in] and bias [out], as PyTorch's `nn.Linear`.
public final class Linear: Module {
    /// Weights [out, in], as PyTorch stores them.
    public let weight: Tensor
    /// Bias [out], if any.
    public let bias: Tensor?
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// PyTorch's default initialisation: Kaiming-uniform (a = sqrt(5)) weight, i.e. bound
    /// 1/sqrt(in), and a bias uniform in +-1/sqrt(in).
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, key: InitKey = InitKey()) {
        precondition(
            inFeatures > 0 && outFeatures > 0, "Linear: features must be positive, got \(inFeatures) -> \(outFeatures)")
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = key.uniform([outFeatures, inFeatures], bound: bound, param: 0)
        self.bias = bias ? key.uniform([outFeatures], bound: bound, param: 1) : nil
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors {
        [(name: "weight", tensor: weight)] + (bias.map { [(name: "bias", tensor: $0)] } ?? [])
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard let last = input.last, input.count >= 2, last == weight.shape[1] else {
            throw ShapeError(
                "linear", "input \(input) does not end in \(weight.shape[1]) features (weight \(weight.shape))")
        }
        return input.dropLast() + [weight.shape[0]]
    }
}
