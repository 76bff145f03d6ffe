import NN

/// Builds the network a list of specs describes, inferring each layer's input size from the
/// sample shape; a layer that does not fit, or a model too large for the machine, is a config
/// error naming the layer.
public enum ModelBuilder {
    /// What sizes layers beyond their input shape: the fewest samples of a training pass (batch
    /// norm needs two values per channel), and for text data the vocabulary and the context;
    /// whether the layer reads the model's input (only there are there token ids to embed).
    struct Context {
        var pass: Int
        var vocabulary: Int?
        var positions: Int?
        var readsInput = false
    }

    /// `batchSize` (the largest batch one process will run) adds activations to the memory
    /// estimate that is checked against the machine before any layer is allocated;
    /// `smallestPass` (the fewest samples of a full batch's training pass on one rank) must give
    /// batch norm more than one value per channel. `vocabulary` and `context` (text data) size
    /// `embedding`, `linear: {out: vocab}` and `positional`.
    public static func build(
        _ specs: [LayerSpec], sampleShape: [Int], seed: UInt64, file: String = "config",
        batchSize: Int = 1, smallestPass: Int = 2, vocabulary: Int? = nil, context: Int? = nil
    ) throws -> Sequential {
        var build = Context(pass: smallestPass, vocabulary: vocabulary, positions: context)
        var shape = [1] + sampleShape
        var layers: [Module] = []
        var memory = MemoryEstimate()
        let available = MemoryEstimate.physicalBytes
        for (i, spec) in specs.enumerated() {
            func fail(_ message: String) -> ConfigError {
                ConfigError(file: file, path: "model[\(i)]", message: message)
            }
            memory.parameters += spec.parameterCount(input: shape, vocabulary: vocabulary)
            guard memory.bytes <= available else {
                throw fail(
                    "the model would need at least \(MemoryEstimate.gigabytes(memory.bytes)) for its "
                        + "\(memory.parameters) parameters (weights, gradients, optimizer state, checkpoint copy); "
                        + "this machine has \(MemoryEstimate.gigabytes(available))")
            }
            build.readsInput = i == 0
            let layer = try layerFor(
                spec, input: shape, key: InitKey(seed: seed, layer: UInt32(i)), context: build, fail: fail)
            if case .residual = spec { memory.parameters += layer.parameterCount }
            do { shape = try layer.outputShape(for: shape) } catch let e as ShapeError {
                throw fail("does not fit its input: \(e.message)")
            }
            memory.activationsPerSample += shape.dropFirst().reduce(1, *)
            guard memory.bytes(batch: batchSize) <= available else {
                throw fail(
                    "with a batch of \(batchSize), training would need at least "
                        + "\(MemoryEstimate.gigabytes(memory.bytes(batch: batchSize))) (\(memory.parameters) "
                        + "parameters "
                        + "and \(memory.activationsPerSample) activations per sample); this machine has "
                        + "\(MemoryEstimate.gigabytes(available)): use a smaller model or batch")
            }
            layers.append(layer)
        }
        return Sequential(layers)
    }

    /// The module for one spec on an input of `shape` ([N, ...]).
    static func layerFor(
        _ spec: LayerSpec, input shape: [Int], key: InitKey, context: Context, fail: (String) -> ConfigError
    ) throws -> Module {
        func need(_ rank: Int, _ what: String) throws {
            guard shape.count == rank else {
                throw fail("\(what) needs input of rank \(rank), gets shape \(shape.dropFirst()) per sample")
            }
        }
        switch spec {
        case .flatten: return Flatten()
        case .layerNorm, .batchNorm:
            return try normalizationLayer(spec, input: shape, pass: context.pass, fail: fail)
        case .embedding, .positional, .transformer, .rnn, .lstm:
            return try sequenceLayer(spec, input: shape, key: key, context: context, need: need, fail: fail)
        case .residual(let body, let shortcut):
            return try residualLayer(
                body: body, shortcut: shortcut, input: shape, key: key, context: context, fail: fail)
        case .globalAvgPool:
            try need(4, "global_avgpool")
            return GlobalAvgPool2d()
        case .activation(let k): return Activation(k)
        case .dropout(let p): return Dropout(p: p, layer: key.layer)
        case .linear(let width, let bias):
            guard let out = width.resolved(vocabulary: context.vocabulary) else {
                throw fail("linear out: vocab needs text data (data.dataset: text)")
            }
            guard shape.count != 4 else {  // PyTorch would apply it to the width axis: surely a missing flatten
                throw fail(
                    "linear needs flat input, gets shape \(Array(shape.dropFirst())) per sample; add 'flatten' "
                        + "before it"
                )
            }
            return Linear(inFeatures: shape[shape.count - 1], outFeatures: out, bias: bias, key: key)
        case .conv2d(let out, let kernel, let stride, let padding, let bias):
            try need(4, "conv2d")
            return Conv2d(
                inChannels: shape[1], outChannels: out, kernelSize: kernel, stride: stride, padding: padding,
                bias: bias, key: key)
        case .maxPool2d(let kernel, let stride):
            try need(4, "maxpool")
            return MaxPool2d(kernel: kernel, stride: stride)
        case .avgPool2d(let kernel, let stride):
            try need(4, "avgpool")
            return AvgPool2d(kernel: kernel, stride: stride)
        }
    }

    /// layernorm and batchnorm (a rank's pass of `pass` samples must give batch norm more than
    /// one value per channel, as PyTorch requires in training).
    static func normalizationLayer(_ spec: LayerSpec, input shape: [Int], pass: Int, fail: (String) -> ConfigError)
        throws -> Module
    {
        switch spec {
        case .layerNorm(let eps):
            guard shape.count >= 2 else { throw fail("layernorm needs a feature axis, gets shape \(shape)") }
            return LayerNorm(dim: shape[shape.count - 1], eps: eps)
        case .batchNorm(let momentum, let eps, let sync):
            guard (2...4).contains(shape.count) else {
                throw fail("batchnorm needs [N, C], [N, C, L] or [N, C, H, W] input, gets shape \(shape)")
            }
            let values = pass * shape.dropFirst(2).reduce(1, *)
            guard values > 1 || sync else {
                throw fail(
                    "batchnorm in training needs more than one value per channel, but a rank's pass of \(pass) "
                        + "sample\(pass == 1 ? "" : "s") gives \(values) (PyTorch: Expected more than 1 value per "
                        + "channel when training): use a larger batch or fewer ranks")
            }
            return BatchNorm(channels: shape[1], momentum: momentum, eps: eps, synchronized: sync)
        default: preconditionFailure("normalizationLayer: \(spec)")
        }
    }

    /// The layers over token sequences [N, T, D]: embedding, positions, transformer, RNN, LSTM.
    static func sequenceLayer(
        _ spec: LayerSpec, input shape: [Int], key: InitKey, context: Context, need: (Int, String) throws -> Void,
        fail: (String) -> ConfigError
    ) throws -> Module {
        switch spec {
        case .embedding(let dim):
            guard context.readsInput else { throw fail("embedding must be the first layer (it reads the token ids)") }
            guard let vocabulary = context.vocabulary else {
                throw fail("embedding needs text data (data.dataset: text), whose vocabulary sizes it")
            }
            try need(2, "embedding")
            return Embedding(vocabulary: vocabulary, dim: dim, key: key)
        case .positional:
            try need(3, "positional")
            guard let positions = context.positions else {
                throw fail("positional needs text data (data.dataset: text), whose data.context sizes it")
            }
            guard shape[1] <= positions else {
                throw fail("positional has \(positions) positions (data.context), the input has \(shape[1])")
            }
            return Positional(length: positions, dim: shape[2], key: key)
        case .transformer(let heads, let ff, let dropout, let causal):
            try need(3, "transformer")
            guard shape[2] % heads == 0 else {
                throw fail("transformer width \(shape[2]) is not divisible by heads: \(heads)")
            }
            return TransformerEncoderLayer(
                dim: shape[2], heads: heads, feedForward: ff, dropout: dropout, causal: causal, key: key)
        case .rnn(let hidden, let seq):
            try need(3, "rnn")
            return RNN(inputSize: shape[2], hiddenSize: hidden, returnSequence: seq, key: key)
        case .lstm(let hidden, let seq):
            try need(3, "lstm")
            return LSTM(inputSize: shape[2], hiddenSize: hidden, returnSequence: seq, key: key)
        default: preconditionFailure("sequenceLayer: \(spec)")
        }
    }

    /// A residual block: its body and shortcut built as their own sequences. Nested layers draw
    /// from keys of their own: layer L's body layer j is L*1000+1+j, its shortcut layer j is
    /// L*1000+501+j.
    static func residualLayer(
        body: [LayerSpec], shortcut: [LayerSpec]?, input shape: [Int], key: InitKey, context: Context,
        fail: (String) -> ConfigError
    ) throws -> Module {
        func branch(_ specs: [LayerSpec], _ offset: UInt32) throws -> Sequential {
            var layers: [Module] = []
            var s = shape
            var inside = context
            inside.readsInput = false
            for (j, spec) in specs.enumerated() {
                let layer = try layerFor(
                    spec, input: s, key: key.nested(offset &+ UInt32(j)), context: inside, fail: fail)
                do { s = try layer.outputShape(for: s) } catch let e as ShapeError {
                    throw fail("residual layer \(j): does not fit its input: \(e.message)")
                }
                layers.append(layer)
            }
            return Sequential(layers)
        }
        return Residual(body: try branch(body, 1), shortcut: try shortcut.map { try branch($0, 501) })
    }
}
