/// Layers applied in order; children are named "0", "1", ... as in PyTorch's `nn.Sequential`,
/// parameter-free layers included, so parameter names match PyTorch's state_dict.
public final class Sequential: Module {
    /// The layers, in order.
    public let layers: [Module]
    public var isTraining = true

    public init(_ layers: [Module]) { self.layers = layers }
    public convenience init(_ layers: Module...) { self.init(layers) }

    public var children: [(name: String, module: Module)] {
        layers.enumerated().map { (name: String($0.offset), module: $0.element) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }

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
