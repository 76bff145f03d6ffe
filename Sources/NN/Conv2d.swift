/// 2-D convolution over NCHW with weight [out, in, kh, kw], as PyTorch's `nn.Conv2d`.
public final class Conv2d: Module {
    /// Filters [out, in, kernel, kernel].
    public let weight: Tensor
    /// Per-output-channel bias, if any.
    public let bias: Tensor?
    public let stride: Int, padding: Int
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// PyTorch's default initialisation: bound 1/sqrt(in * kh * kw) for weight and bias.
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, key: InitKey = InitKey()
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
            "Conv2d: channels, kernel and stride must be positive and padding not negative")
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = key.uniform([outChannels, inChannels, kernelSize, kernelSize], bound: bound, param: 0)
        self.bias = bias ? key.uniform([outChannels], bound: bound, param: 1) : nil
        self.stride = stride
        self.padding = padding
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors {
        [(name: "weight", tensor: weight)] + (bias.map { [(name: "bias", tensor: $0)] } ?? [])
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        try Shapes.conv2d(input, weight: weight.shape, stride: stride, padding: padding)
    }
}
