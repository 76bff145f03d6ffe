/// A table of learned vectors, one per token: [N, T] token ids -> [N, T, D], as PyTorch's
/// `nn.Embedding(vocabulary, D)` (weight initialised Normal(0, 1), as PyTorch does).
public final class Embedding: Module {
    /// The table [vocabulary, dim].
    public let weight: Tensor
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// A table initialised Normal(0, 1), as PyTorch's.
    public init(vocabulary: Int, dim: Int, key: InitKey = InitKey()) {
        precondition(vocabulary > 0 && dim > 0, "Embedding: vocabulary and dim must be positive")
        weight = key.normal([vocabulary, dim], std: 1, param: 0)
    }

    /// Rows of the table (token ids 0..<vocabulary).
    public var vocabulary: Int { weight.shape[0] }
    /// Width of each vector.
    public var dim: Int { weight.shape[1] }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors { [(name: "weight", tensor: weight)] }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.embedding(x, table: weight) }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 2 else {
            throw ShapeError("embedding", "takes [N, T] token ids, got input \(input)")
        }
        return input + [dim]
    }
}

/// Learned positions: x + weight[:T] for x [N, T, D], one row per position up to `length`.
/// In PyTorch it is the three-line module in the README (`Positional`).
public final class Positional: Module {
    /// Position vectors [length, dim].
    public let weight: Tensor
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// Uniform(-0.0346, 0.0346) values (standard deviation 0.02, as GPT-style models start).
    public init(length: Int, dim: Int, key: InitKey = InitKey()) {
        precondition(length > 0 && dim > 0, "Positional: length and dim must be positive")
        weight = key.uniform([length, dim], bound: 0.02 * Float(3).squareRoot(), param: 0)
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors { [(name: "weight", tensor: weight)] }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x + weight.sliced(alongAxis: 0, 0..<x.shape[1])
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[2] == weight.shape[1] else {
            throw ShapeError("positional", "adds [T, \(weight.shape[1])] positions to [N, T, D] input, got \(input)")
        }
        guard input[1] <= weight.shape[0] else {
            throw ShapeError(
                "positional", "has \(weight.shape[0]) positions, the input has \(input[1]) (beyond data.context)")
        }
        return input
    }
}
