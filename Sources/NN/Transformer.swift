/// Multi-head self-attention with PyTorch's `nn.MultiheadAttention` parameters (packed
/// `in_proj_weight` [3D, D] and `in_proj_bias`, then `out_proj`), on [N, T, D] batch-first input.
public final class MultiheadAttention: Module {
    /// Packed query, key and value projections [3D, D].
    public let inProjWeight: Tensor
    /// Packed projection biases [3D].
    public let inProjBias: Tensor
    /// The output projection (`out_proj`).
    public let outProj: Linear
    /// Number of heads (D divides by it).
    public let heads: Int
    /// Whether a position attends only to itself and earlier ones.
    public let causal: Bool
    /// Drops attention weights in training (PyTorch's `dropout` argument).
    public let attentionDropout: Dropout
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// PyTorch's initialisation: Xavier-uniform in_proj, zero biases, default Linear out_proj weight.
    public init(dim: Int, heads: Int, causal: Bool, dropout: Float = 0, key: InitKey = InitKey()) {
        precondition(dim > 0 && heads > 0 && dim % heads == 0, "MultiheadAttention: \(dim) not divisible by \(heads)")
        inProjWeight = key.uniform([3 * dim, dim], bound: (6 / Float(4 * dim)).squareRoot(), param: 0)
        inProjBias = Tensor(zeros: [3 * dim], requiresGrad: true)
        outProj = Linear(inFeatures: dim, outFeatures: dim, key: key.nested(1))
        outProj.bias?.assign(Tensor(zeros: [dim]))
        attentionDropout = Dropout(p: dropout, layer: key.nested(2).layer)
        self.heads = heads
        self.causal = causal
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors {
        [(name: "in_proj_weight", tensor: inProjWeight), (name: "in_proj_bias", tensor: inProjBias)]
    }

    /// Sub-layers with the names PyTorch gives them.
    public var children: [(name: String, module: Module)] {
        [(name: "out_proj", module: outProj), (name: "attention_dropout", module: attentionDropout)]
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let qkv = Tensor.linear(x, weight: inProjWeight, bias: inProjBias)
        let p = attentionDropout.p
        let mask = isTraining && p > 0 ? attentionDropout.mask(for: [x.shape[0], heads, x.shape[1], x.shape[1]]) : nil
        return outProj(Tensor.selfAttention(qkv, heads: heads, causal: causal, dropoutMask: mask, p: p))
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[2] == inProjWeight.shape[1] else {
            throw ShapeError("attention", "takes [N, T, \(inProjWeight.shape[1])], got input \(input)")
        }
        return input
    }
}

/// A pre-norm Transformer encoder layer, PyTorch's `nn.TransformerEncoderLayer(D, H, F, dropout,
/// activation="gelu", batch_first=True, norm_first=True)` with the same parameter names:
/// x + dropout1(self_attn(norm1(x))), then + dropout2(linear2(dropout(gelu(linear1(norm2(x)))))).
public final class TransformerEncoderLayer: Module {
    /// Self-attention (`self_attn`).
    public let selfAttention: MultiheadAttention
    /// Feed-forward expansion D -> F.
    public let linear1: Linear
    /// Feed-forward projection F -> D.
    public let linear2: Linear
    /// Normalization before attention.
    public let norm1: LayerNorm
    /// Normalization before the feed-forward block.
    public let norm2: LayerNorm
    /// Dropout inside the feed-forward block.
    public let dropout: Dropout
    /// Dropout on the attention output.
    public let dropout1: Dropout
    /// Dropout on the feed-forward output.
    public let dropout2: Dropout
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// A layer of width `dim`, `heads` heads, feed-forward width `feedForward`, dropout `p`.
    public init(dim: Int, heads: Int, feedForward: Int, dropout p: Float, causal: Bool, key: InitKey = InitKey()) {
        selfAttention = MultiheadAttention(dim: dim, heads: heads, causal: causal, dropout: p, key: key.nested(1))
        linear1 = Linear(inFeatures: dim, outFeatures: feedForward, key: key.nested(2))
        linear2 = Linear(inFeatures: feedForward, outFeatures: dim, key: key.nested(3))
        norm1 = LayerNorm(dim: dim)
        norm2 = LayerNorm(dim: dim)
        dropout = Dropout(p: p, layer: key.nested(4).layer)
        dropout1 = Dropout(p: p, layer: key.nested(5).layer)
        dropout2 = Dropout(p: p, layer: key.nested(6).layer)
    }

    /// Sub-layers with the names PyTorch gives them.
    public var children: [(name: String, module: Module)] {
        [
            (name: "self_attn", module: selfAttention), (name: "linear1", module: linear1),
            (name: "dropout", module: dropout), (name: "linear2", module: linear2), (name: "norm1", module: norm1),
            (name: "norm2", module: norm2), (name: "dropout1", module: dropout1), (name: "dropout2", module: dropout2),
        ]
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let attended = x + dropout1(selfAttention(norm1(x)))
        return attended + dropout2(linear2(dropout(linear1(norm2(attended)).gelu())))
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        try selfAttention.outputShape(for: input)
    }
}
