/// Max or mean over kernel x kernel windows of NCHW images, as PyTorch's `nn.MaxPool2d` and
/// `nn.AvgPool2d` (made by the functions of those names below).
public final class Pool2d: Module {
    /// Max or mean.
    public enum Kind: Sendable { case max, average }
    /// Max or mean pooling.
    public let kind: Kind
    public let kernel: Int, stride: Int, padding: Int
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// `stride` defaults to the kernel size, as in PyTorch.
    public init(_ kind: Kind, kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .max: return x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
        case .average: return x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
        }
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        let op = kind == .max ? "max_pool2d" : "avg_pool2d"
        return try Shapes.pool2d(input, kernel: kernel, stride: stride, padding: padding, op: op)
    }
}

// swift-format-ignore: AlwaysUseLowerCamelCase
/// PyTorch's `nn.MaxPool2d`.
public func MaxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Pool2d {
    Pool2d(.max, kernel: kernel, stride: stride, padding: padding)
}

// swift-format-ignore: AlwaysUseLowerCamelCase
/// PyTorch's `nn.AvgPool2d`.
public func AvgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Pool2d {
    Pool2d(.average, kernel: kernel, stride: stride, padding: padding)
}

/// The mean of each channel over all pixels, [N, C, H, W] -> [N, C]: PyTorch's
/// `nn.AdaptiveAvgPool2d(1)` followed by `nn.Flatten()` (a ResNet's head).
public final class GlobalAvgPool2d: Module {
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true
    /// The layer (it has no settings).
    public init() {}
    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { x.mean(alongAxes: [2, 3]) }
    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4 else { throw ShapeError("global_avgpool", "needs [N, C, H, W], got \(input)") }
        return [input[0], input[1]]
    }
}

/// [N, ...] -> [N, rest], as PyTorch's `nn.Flatten`.
public final class Flatten: Module {
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true
    /// The layer (it has no settings).
    public init() {}
    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened() }
    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count >= 1 else { throw ShapeError("flatten", "input needs a batch axis, got \(input)") }
        return [input[0], input.dropFirst().reduce(1, *)]
    }
}
