/// Normalization over the last axis with a learned scale and shift, as PyTorch's
/// `nn.LayerNorm(dim)`: (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance
/// (the fused `layerNormalized` op: composed of elementwise ops it cost 15% of the transformer
/// workload).
public final class LayerNorm: Module {
    /// Per-feature scale.
    public let weight: Tensor
    /// Per-feature shift.
    public let bias: Tensor
    /// Added to the variance before the square root.
    public let eps: Float
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// weight ones and bias zeros, as PyTorch initialises them.
    public init(dim: Int, eps: Float = 1e-5) {
        precondition(dim > 0 && eps > 0, "LayerNorm: dim and eps must be positive")
        weight = Tensor(ones: [dim], requiresGrad: true)
        bias = Tensor(zeros: [dim], requiresGrad: true)
        self.eps = eps
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors { [(name: "weight", tensor: weight), (name: "bias", tensor: bias)] }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNormalized(weight: weight, bias: bias, eps: eps) }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard let last = input.last, input.count >= 2, last == weight.count else {
            throw ShapeError("layernorm", "normalizes a last axis of \(weight.count), got input \(input)")
        }
        return input
    }
}
