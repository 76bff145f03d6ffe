/// Layers applied in order; children are named "0", "1", ... as in PyTorch's `nn.Sequential`,
/// parameter-free layers included, so parameter names match PyTorch's state_dict.
public final class Sequential: Module {
    /// The layers, in order.
    public let layers: [Module]
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// A chain of `layers`, applied in order.
    public init(_ layers: [Module]) { self.layers = layers }
    /// A chain of `layers`, applied in order.
    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Sub-layers with the names PyTorch gives them.
    public var children: [(name: String, module: Module)] {
        layers.enumerated().map { (name: String($0.offset), module: $0.element) }
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        var shape = input
        for (i, layer) in layers.enumerated() {
            do { shape = try layer.outputShape(for: shape) } catch let e as ShapeError {
                throw ShapeError(e.op, "layer \(i): \(e.message)")
            }
        }
        return shape
    }
}
