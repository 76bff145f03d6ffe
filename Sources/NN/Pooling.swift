/// Max over kernel x kernel windows of NCHW images, as PyTorch's `nn.MaxPool2d`.
public final class MaxPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public var isTraining = true
    /// `stride` defaults to the kernel size, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.maxPool2d(kernel: kernel, stride: stride, padding: padding) }
    public func outputShape(for input: [Int]) throws -> [Int] {
        try Shapes.pool2d(input, kernel: kernel, stride: stride, padding: padding, op: "max_pool2d")
    }
}

/// Mean over kernel x kernel windows of NCHW images, as PyTorch's `nn.AvgPool2d`.
public final class AvgPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public var isTraining = true
    /// `stride` defaults to the kernel size, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.avgPool2d(kernel: kernel, stride: stride, padding: padding) }
    public func outputShape(for input: [Int]) throws -> [Int] {
        try Shapes.pool2d(input, kernel: kernel, stride: stride, padding: padding, op: "avg_pool2d")
    }
}

/// [N, ...] -> [N, rest], as PyTorch's `nn.Flatten`.
public final class Flatten: Module {
    public var isTraining = true
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened() }
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count >= 1 else { throw ShapeError("flatten", "input needs a batch axis, got \(input)") }
        return [input[0], input.dropFirst().reduce(1, *)]
    }
}
