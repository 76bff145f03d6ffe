/// y = x W^T + b with weight [out, in] and bias [out], as PyTorch's `nn.Linear`.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?
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

    public var localParameters: NamedTensors {
        [(name: "weight", tensor: weight)] + (bias.map { [(name: "bias", tensor: $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard let last = input.last, input.count >= 2, last == weight.shape[1] else {
            throw ShapeError(
                "linear", "input \(input) does not end in \(weight.shape[1]) features (weight \(weight.shape))")
        }
        return input.dropLast() + [weight.shape[0]]
    }
}
