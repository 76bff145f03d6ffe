/// An elementwise activation as a parameter-free layer (it keeps its index in a Sequential).
public final class Activation: Module {
    /// Which function.
    public enum Kind: String, CaseIterable, Sendable { case relu, sigmoid, tanh, gelu, elu, softmax }
    /// The function applied.
    public let kind: Kind
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true
    /// The activation `kind` as a layer.
    public init(_ kind: Kind) { self.kind = kind }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .gelu: return x.gelu()
        case .elu: return x.elu()
        case .softmax: return x.softmax(alongAxis: -1)
        }
    }
    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] { input }
}

// PyTorch's class names on purpose: `Sequential(Linear(...), ReLU())` reads as in PyTorch.
// swift-format-ignore: AlwaysUseLowerCamelCase
/// ReLU layer.
public func ReLU() -> Activation { Activation(.relu) }
// swift-format-ignore: AlwaysUseLowerCamelCase
/// Sigmoid layer.
public func Sigmoid() -> Activation { Activation(.sigmoid) }
// swift-format-ignore: AlwaysUseLowerCamelCase
/// Tanh layer.
public func Tanh() -> Activation { Activation(.tanh) }
// swift-format-ignore: AlwaysUseLowerCamelCase
/// GELU layer (exact erf form).
public func GELU() -> Activation { Activation(.gelu) }
// swift-format-ignore: AlwaysUseLowerCamelCase
/// ELU layer (alpha 1).
public func ELU() -> Activation { Activation(.elu) }
// swift-format-ignore: AlwaysUseLowerCamelCase
/// Softmax over the last axis.
public func Softmax() -> Activation { Activation(.softmax) }
