import Foundation
import NN

/// One entry of the config's `model:` list, in PyTorch's nn.Sequential order. Input sizes are
/// inferred from the data, so a spec gives only output sizes.
public enum LayerSpec: Equatable, Sendable {
    case flatten
    case linear(out: Int, bias: Bool)
    case conv2d(out: Int, kernel: Int, stride: Int, padding: Int)
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    case activation(Activation.Kind)
    case dropout(p: Float)
    case rnn(hidden: Int, returnSequence: Bool)
    case lstm(hidden: Int, returnSequence: Bool)

    static let names =
        ["flatten", "linear", "conv2d", "maxpool", "avgpool", "dropout", "rnn", "lstm"]
        + Activation.Kind.allCases.map(\.rawValue)

    /// The spec as config values: "relu" or ["linear": ["out": 128]].
    public var configValue: Any {
        switch self {
        case .flatten: return "flatten"
        case .activation(let k): return k.rawValue
        case .linear(let out, let bias): return ["linear": ["out": out, "bias": bias]]
        case .conv2d(let out, let kernel, let stride, let padding):
            return ["conv2d": ["out": out, "kernel": kernel, "stride": stride, "padding": padding]]
        case .maxPool2d(let kernel, let stride): return ["maxpool": ["kernel": kernel, "stride": stride]]
        case .avgPool2d(let kernel, let stride): return ["avgpool": ["kernel": kernel, "stride": stride]]
        case .dropout(let p): return ["dropout": ["p": Double(p)]]
        case .rnn(let hidden, let seq): return ["rnn": ["hidden": hidden, "return_sequence": seq]]
        case .lstm(let hidden, let seq): return ["lstm": ["hidden": hidden, "return_sequence": seq]]
        }
    }

    /// Parses one `model:` entry; `index` names it in errors (model[3]).
    static func parse(_ value: Any, index: Int, file: String) throws -> LayerSpec {
        let path = "model[\(index)]"
        if let name = value as? String {
            if name == "flatten" { return .flatten }
            if let k = Activation.Kind(rawValue: name) { return .activation(k) }
            if names.contains(name) {
                throw ConfigError(
                    file: file, path: path, message: "layer '\(name)' needs settings, e.g. \(example(name))")
            }
            throw ConfigError(file: file, path: path, message: "unknown layer '\(name)'" + suggestion(name, names))
        }
        guard let m = value as? [String: Any], m.count == 1, let (name, body) = m.first else {
            throw ConfigError(
                file: file, path: path,
                message: "must be a layer name or a single-key mapping such as \(example("linear"))")
        }
        let settings: [String: Any]
        if body is NSNull {
            settings = [:]
        } else if let s = body as? [String: Any] {
            settings = s
        } else {
            throw ConfigError(
                file: file, path: path + "." + name, message: "must be a mapping of settings, e.g. \(example(name))")
        }
        let r = ConfigReader(settings, file: file, path: path + "." + name)
        let spec: LayerSpec
        switch name {
        case "flatten": spec = .flatten
        case "linear":
            spec = .linear(out: try r.int("out", range: 1...1 << 24), bias: try r.bool("bias", default: true))
        case "conv2d":
            spec = .conv2d(
                out: try r.int("out", range: 1...1 << 16), kernel: try r.int("kernel", default: 3, range: 1...64),
                stride: try r.int("stride", default: 1, range: 1...64),
                padding: try r.int("padding", default: 0, range: 0...64))
        case "maxpool", "avgpool":
            let kernel = try r.int("kernel", default: 2, range: 1...64)
            let stride = try r.int("stride", default: kernel, range: 1...64)
            spec =
                name == "maxpool"
                ? .maxPool2d(kernel: kernel, stride: stride) : .avgPool2d(kernel: kernel, stride: stride)
        case "dropout":
            spec = .dropout(p: Float(try r.double("p", default: 0.5, "in [0, 1)") { $0 >= 0 && $0 < 1 }))
        case "rnn", "lstm":
            let hidden = try r.int("hidden", range: 1...1 << 16)
            let seq = try r.bool("return_sequence", default: false)
            spec =
                name == "rnn" ? .rnn(hidden: hidden, returnSequence: seq) : .lstm(hidden: hidden, returnSequence: seq)
        default:
            if let k = Activation.Kind(rawValue: name) {
                spec = .activation(k)
            } else {
                throw ConfigError(file: file, path: path, message: "unknown layer '\(name)'" + suggestion(name, names))
            }
        }
        try r.finish()
        return spec
    }

    static func example(_ name: String) -> String {
        switch name {
        case "linear": return "{linear: {out: 128}}"
        case "conv2d": return "{conv2d: {out: 32, kernel: 3}}"
        case "maxpool", "avgpool": return "{\(name): {kernel: 2}}"
        case "dropout": return "{dropout: {p: 0.2}}"
        case "rnn", "lstm": return "{\(name): {hidden: 32}}"
        default: return name
        }
    }

}

/// Builds the network a list of specs describes, inferring each layer's input size from the
/// sample shape; a layer that does not fit is a config error naming it.
public enum ModelBuilder {
    /// `batchSize` (the largest batch one process will run) adds activations to the memory
    /// estimate that is checked against the machine before any layer is allocated.
    public static func build(
        _ specs: [LayerSpec], sampleShape: [Int], seed: UInt64, file: String = "config",
        batchSize: Int = 1
    ) throws -> Sequential {
        var shape = [1] + sampleShape
        var layers: [Module] = []
        var memory = MemoryEstimate()
        let available = MemoryEstimate.physicalBytes
        for (i, spec) in specs.enumerated() {
            memory.parameters += spec.parameterCount(input: shape)
            guard memory.bytes <= available else {
                throw ConfigError(
                    file: file, path: "model[\(i)]",
                    message:
                        "the model would need at least \(MemoryEstimate.gigabytes(memory.bytes)) for its \(memory.parameters) parameters (weights, gradients, optimizer state, checkpoint copy); this machine has \(MemoryEstimate.gigabytes(available))"
                )
            }
            let key = InitKey(seed: seed, layer: UInt32(i))
            let layer: Module
            func need(_ rank: Int, _ what: String) throws {
                guard shape.count == rank else {
                    throw ConfigError(
                        file: file, path: "model[\(i)]",
                        message: "\(what) needs input of rank \(rank), gets shape \(shape.dropFirst()) per sample")
                }
            }
            switch spec {
            case .flatten: layer = Flatten()
            case .activation(let k): layer = Activation(k)
            case .dropout(let p): layer = Dropout(p: p, layer: UInt32(i))
            case .linear(let out, let bias):
                layer = Linear(inFeatures: shape.last!, outFeatures: out, bias: bias, key: key)
                if shape.count == 4 {  // PyTorch would apply it to the width axis: surely a missing flatten
                    throw ConfigError(
                        file: file, path: "model[\(i)]",
                        message:
                            "linear needs flat input, gets shape \(Array(shape.dropFirst())) per sample; add 'flatten' before it"
                    )
                }
            case .conv2d(let out, let kernel, let stride, let padding):
                try need(4, "conv2d")
                layer = Conv2d(
                    inChannels: shape[1], outChannels: out, kernelSize: kernel, stride: stride, padding: padding,
                    key: key)
            case .maxPool2d(let kernel, let stride):
                try need(4, "maxpool")
                layer = MaxPool2d(kernel: kernel, stride: stride)
            case .avgPool2d(let kernel, let stride):
                try need(4, "avgpool")
                layer = AvgPool2d(kernel: kernel, stride: stride)
            case .rnn(let hidden, let seq):
                try need(3, "rnn")
                layer = RNN(inputSize: shape[2], hiddenSize: hidden, returnSequence: seq, key: key)
            case .lstm(let hidden, let seq):
                try need(3, "lstm")
                layer = LSTM(inputSize: shape[2], hiddenSize: hidden, returnSequence: seq, key: key)
            }
            do { shape = try layer.outputShape(for: shape) } catch let e as ShapeError {
                throw ConfigError(file: file, path: "model[\(i)]", message: "does not fit its input: \(e.message)")
            }
            memory.activationsPerSample += shape.dropFirst().reduce(1, *)
            guard memory.bytes(batch: batchSize) <= available else {
                throw ConfigError(
                    file: file, path: "model[\(i)]",
                    message:
                        "with a batch of \(batchSize), training would need at least \(MemoryEstimate.gigabytes(memory.bytes(batch: batchSize))) (\(memory.parameters) parameters and \(memory.activationsPerSample) activations per sample); this machine has \(MemoryEstimate.gigabytes(available)): use a smaller model or batch"
                )
            }
            layers.append(layer)
        }
        return Sequential(layers)
    }
}
