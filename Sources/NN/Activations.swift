/// An elementwise activation as a parameter-free layer (it keeps its index in a Sequential).
public final class Activation: Module {
    /// Which function.
    public enum Kind: String, CaseIterable, Sendable { case relu, sigmoid, tanh, gelu, elu, softmax }
    public let kind: Kind
    public var isTraining = true
    public init(_ kind: Kind) { self.kind = kind }

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
    public func outputShape(for input: [Int]) throws -> [Int] { input }
}

// PyTorch's class names on purpose: `Sequential(Linear(...), ReLU())` reads as in PyTorch.
/// ReLU layer.
// swift-format-ignore: AlwaysUseLowerCamelCase
public func ReLU() -> Activation { Activation(.relu) }
/// Sigmoid layer.
// swift-format-ignore: AlwaysUseLowerCamelCase
public func Sigmoid() -> Activation { Activation(.sigmoid) }
/// Tanh layer.
// swift-format-ignore: AlwaysUseLowerCamelCase
public func Tanh() -> Activation { Activation(.tanh) }
/// GELU layer (exact erf form).
// swift-format-ignore: AlwaysUseLowerCamelCase
public func GELU() -> Activation { Activation(.gelu) }
/// ELU layer (alpha 1).
// swift-format-ignore: AlwaysUseLowerCamelCase
public func ELU() -> Activation { Activation(.elu) }
/// Softmax over the last axis.
// swift-format-ignore: AlwaysUseLowerCamelCase
public func Softmax() -> Activation { Activation(.softmax) }
