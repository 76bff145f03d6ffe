/// Multi-head self-attention with PyTorch's `nn.MultiheadAttention` parameters (packed
/// `in_proj_weight` [3D, D] and `in_proj_bias`, then `out_proj`), on [N, T, D] batch-first input.
public final class MultiheadAttention: Module {
    public let inProjWeight: Tensor
    public let inProjBias: Tensor
    public let outProj: Linear
    public let heads: Int
    public let causal: Bool
    /// Drops attention weights in training (PyTorch's `dropout` argument).
    public let attentionDropout: Dropout
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

    public var localParameters: NamedTensors {
        [(name: "in_proj_weight", tensor: inProjWeight), (name: "in_proj_bias", tensor: inProjBias)]
    }

    public var children: [(name: String, module: Module)] {
        [(name: "out_proj", module: outProj), (name: "attention_dropout", module: attentionDropout)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let qkv = Tensor.linear(x, weight: inProjWeight, bias: inProjBias)
        let p = attentionDropout.p
        let mask = isTraining && p > 0 ? attentionDropout.mask(for: [x.shape[0], heads, x.shape[1], x.shape[1]]) : nil
        return outProj(Tensor.selfAttention(qkv, heads: heads, causal: causal, dropoutMask: mask, p: p))
    }

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
    public let selfAttention: MultiheadAttention
    public let linear1: Linear
    public let linear2: Linear
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let dropout: Dropout
    public let dropout1: Dropout
    public let dropout2: Dropout
    public var isTraining = true

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

    public var children: [(name: String, module: Module)] {
        [
            (name: "self_attn", module: selfAttention), (name: "linear1", module: linear1),
            (name: "dropout", module: dropout), (name: "linear2", module: linear2), (name: "norm1", module: norm1),
            (name: "norm2", module: norm2), (name: "dropout1", module: dropout1), (name: "dropout2", module: dropout2),
        ]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let attended = x + dropout1(selfAttention(norm1(x)))
        return attended + dropout2(linear2(dropout(linear1(norm2(attended)).gelu())))
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try selfAttention.outputShape(for: input)
    }
}
