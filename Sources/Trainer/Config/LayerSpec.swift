import Foundation
import NN

/// One entry of the config's `model:` list, in PyTorch's nn.Sequential order. Input sizes are
/// inferred from the data, so a spec gives only output sizes.
public enum LayerSpec: Equatable, Sendable {
    /// A layer's width: a number, or the vocabulary size of the text data (`out: vocab`).
    public enum Width: Equatable, Sendable, ExpressibleByIntegerLiteral {
        case fixed(Int)
        case vocabulary
        /// A fixed width.
        public init(integerLiteral value: Int) { self = .fixed(value) }

        /// The number, given the data's vocabulary size (nil: no vocabulary to take it from).
        func resolved(vocabulary: Int?) -> Int? {
            switch self {
            case .fixed(let n): return n
            case .vocabulary: return vocabulary
            }
        }

        var configValue: Any {
            switch self {
            case .fixed(let n): return n
            case .vocabulary: return "vocab"
            }
        }
    }

    case flatten
    case linear(out: Width, bias: Bool)
    case conv2d(out: Int, kernel: Int, stride: Int, padding: Int, bias: Bool = true)
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    /// PyTorch's AdaptiveAvgPool2d(1) then flatten: [N, C, H, W] -> [N, C].
    case globalAvgPool
    /// PyTorch's LayerNorm over the last axis.
    case layerNorm(eps: Float = 1e-5)
    /// PyTorch's BatchNorm1d/2d by input rank; `sync`: SyncBatchNorm (statistics of all ranks).
    case batchNorm(momentum: Float = 0.1, eps: Float = 1e-5, sync: Bool = false)
    case activation(Activation.Kind)
    case dropout(p: Float)
    case rnn(hidden: Int, returnSequence: Bool)
    case lstm(hidden: Int, returnSequence: Bool)
    /// Token ids [N, T] -> [N, T, dim]; the vocabulary comes from the text data.
    case embedding(dim: Int)
    /// Learned positions added to [N, T, D], one row per position up to data.context.
    case positional
    /// PyTorch's pre-norm TransformerEncoderLayer (GELU, batch first), causal mask optional.
    case transformer(heads: Int, feedForward: Int, dropout: Float, causal: Bool)
    /// body(x) + shortcut(x); no shortcut: the identity.
    indirect case residual(body: [LayerSpec], shortcut: [LayerSpec]?)

    static let names =
        [
            "flatten", "global_avgpool", "linear", "conv2d", "maxpool", "avgpool", "dropout", "rnn", "lstm", "residual",
            "layernorm", "batchnorm", "embedding", "positional", "transformer",
        ]
        + Activation.Kind.allCases.map(\.rawValue)

    /// The spec as config values: "relu" or ["linear": ["out": 128]].
    public var configValue: Any {
        switch self {
        case .flatten: return "flatten"
        case .globalAvgPool: return "global_avgpool"
        case .layerNorm(let eps): return ["layernorm": ["eps": decimal(eps)]]
        case .batchNorm(let momentum, let eps, let sync):
            return ["batchnorm": ["momentum": decimal(momentum), "eps": decimal(eps), "sync": sync]]
        case .activation(let k): return k.rawValue
        case .linear(let out, let bias): return ["linear": ["out": out.configValue, "bias": bias]]
        case .embedding(let dim): return ["embedding": ["dim": dim]]
        case .positional: return "positional"
        case .transformer(let heads, let ff, let dropout, let causal):
            return ["transformer": ["heads": heads, "ff": ff, "dropout": decimal(dropout), "causal": causal]]
        case .conv2d(let out, let kernel, let stride, let padding, let bias):
            return ["conv2d": ["out": out, "kernel": kernel, "stride": stride, "padding": padding, "bias": bias]]
        case .maxPool2d(let kernel, let stride): return ["maxpool": ["kernel": kernel, "stride": stride]]
        case .avgPool2d(let kernel, let stride): return ["avgpool": ["kernel": kernel, "stride": stride]]
        case .dropout(let p): return ["dropout": ["p": Double(p)]]
        case .rnn(let hidden, let seq): return ["rnn": ["hidden": hidden, "return_sequence": seq]]
        case .lstm(let hidden, let seq): return ["lstm": ["hidden": hidden, "return_sequence": seq]]
        case .residual(let body, let shortcut):
            var v: [String: Any] = ["body": body.map(\.configValue)]
            if let shortcut { v["shortcut"] = shortcut.map(\.configValue) }
            return ["residual": v]
        }
    }

    /// Parses one `model:` entry; `index` names it in errors (model[3]).
    static func parse(_ value: Any, index: Int, file: String) throws -> LayerSpec {
        try parse(value, path: "model[\(index)]", file: file)
    }

    /// Parses one entry at `path` (a residual block's entries are `model[3].residual.body[1]`).
    static func parse(_ value: Any, path: String, file: String) throws -> LayerSpec {
        if let name = value as? String {
            if name == "flatten" { return .flatten }
            if name == "global_avgpool" { return .globalAvgPool }
            if name == "layernorm" { return .layerNorm() }
            if name == "batchnorm" { return .batchNorm() }
            if name == "positional" { return .positional }
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
        guard let spec = try parseSettings(name, r, file: file) else {
            throw ConfigError(file: file, path: path, message: "unknown layer '\(name)'" + suggestion(name, names))
        }
        try r.finish()
        return spec
    }

    /// The layer `name` with its settings read from `r`; nil for an unknown name.
    static func parseSettings(_ name: String, _ r: ConfigReader, file: String) throws -> LayerSpec? {
        switch name {
        case "flatten": return .flatten
        case "global_avgpool": return .globalAvgPool
        case "layernorm": return .layerNorm(eps: try r.float("eps", default: 1e-5, "positive") { $0 > 0 })
        case "batchnorm":
            return .batchNorm(
                momentum: try r.float("momentum", default: 0.1, "in [0, 1]") { (0...1).contains($0) },
                eps: try r.float("eps", default: 1e-5, "positive") { $0 > 0 }, sync: try r.bool("sync", default: false))
        case "linear":
            let out: Width =
                r.values["out"] as? String == "vocab" ? .vocabulary : .fixed(try r.int("out", range: 1...1 << 24))
            r.accept("out")
            return .linear(out: out, bias: try r.bool("bias", default: true))
        case "embedding": return .embedding(dim: try r.int("dim", range: 1...1 << 16))
        case "positional": return .positional
        case "transformer":
            return .transformer(
                heads: try r.int("heads", range: 1...1024), feedForward: try r.int("ff", range: 1...1 << 20),
                dropout: Float(try r.double("dropout", default: 0.1, "in [0, 1)") { $0 >= 0 && $0 < 1 }),
                causal: try r.bool("causal", default: true))
        case "conv2d":
            return .conv2d(
                out: try r.int("out", range: 1...1 << 16), kernel: try r.int("kernel", default: 3, range: 1...64),
                stride: try r.int("stride", default: 1, range: 1...64),
                padding: try r.int("padding", default: 0, range: 0...64), bias: try r.bool("bias", default: true))
        case "maxpool", "avgpool":
            let kernel = try r.int("kernel", default: 2, range: 1...64)
            let stride = try r.int("stride", default: kernel, range: 1...64)
            return name == "maxpool"
                ? .maxPool2d(kernel: kernel, stride: stride) : .avgPool2d(kernel: kernel, stride: stride)
        case "dropout":
            return .dropout(p: Float(try r.double("p", default: 0.5, "in [0, 1)") { $0 >= 0 && $0 < 1 }))
        case "residual":
            return .residual(
                body: try parseList(r, "body", file: file, required: true) ?? [],
                shortcut: try parseList(r, "shortcut", file: file, required: false))
        case "rnn", "lstm":
            let hidden = try r.int("hidden", range: 1...1 << 16)
            let seq = try r.bool("return_sequence", default: false)
            return name == "rnn"
                ? .rnn(hidden: hidden, returnSequence: seq) : .lstm(hidden: hidden, returnSequence: seq)
        default:
            return Activation.Kind(rawValue: name).map { .activation($0) }
        }
    }

    /// A nested list of layers (a residual block's body or shortcut).
    static func parseList(_ r: ConfigReader, _ key: String, file: String, required: Bool) throws -> [LayerSpec]? {
        guard required || r.has(key) else {
            r.accept(key)
            return nil
        }
        let items = try r.list(key)
        guard !items.isEmpty else { throw r.error(key, "needs at least one layer") }
        return try items.enumerated().map {
            try parse($0.element, path: r.keyPath(key) + "[\($0.offset)]", file: file)
        }
    }

    static func example(_ name: String) -> String {
        switch name {
        case "linear": return "{linear: {out: 128}}"
        case "conv2d": return "{conv2d: {out: 32, kernel: 3}}"
        case "maxpool", "avgpool": return "{\(name): {kernel: 2}}"
        case "dropout": return "{dropout: {p: 0.2}}"
        case "rnn", "lstm": return "{\(name): {hidden: 32}}"
        case "residual": return "{residual: {body: [{linear: {out: 64}}, relu]}}"
        case "embedding": return "{embedding: {dim: 64}}"
        case "transformer": return "{transformer: {heads: 4, ff: 256}}"
        default: return name
        }
    }

}
