import Foundation
import NN

/// One entry of the config's `model:` list, in PyTorch's nn.Sequential order. Input sizes are
/// inferred from the data, so a spec gives only output sizes.
public enum LayerSpec: Equatable, Sendable {
    case flatten
    case linear(out: Int, bias: Bool)
    case conv2d(out: Int, kernel: Int, stride: Int, padding: Int, bias: Bool = true)
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    /// PyTorch's AdaptiveAvgPool2d(1) then flatten: [N, C, H, W] -> [N, C].
    case globalAvgPool
    case activation(Activation.Kind)
    case dropout(p: Float)
    case rnn(hidden: Int, returnSequence: Bool)
    case lstm(hidden: Int, returnSequence: Bool)

    static let names =
        ["flatten", "global_avgpool", "linear", "conv2d", "maxpool", "avgpool", "dropout", "rnn", "lstm"]
        + Activation.Kind.allCases.map(\.rawValue)

    /// The spec as config values: "relu" or ["linear": ["out": 128]].
    public var configValue: Any {
        switch self {
        case .flatten: return "flatten"
        case .globalAvgPool: return "global_avgpool"
        case .activation(let k): return k.rawValue
        case .linear(let out, let bias): return ["linear": ["out": out, "bias": bias]]
        case .conv2d(let out, let kernel, let stride, let padding, let bias):
            return ["conv2d": ["out": out, "kernel": kernel, "stride": stride, "padding": padding, "bias": bias]]
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
            if name == "global_avgpool" { return .globalAvgPool }
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
        case "global_avgpool": spec = .globalAvgPool
        case "linear":
            spec = .linear(out: try r.int("out", range: 1...1 << 24), bias: try r.bool("bias", default: true))
        case "conv2d":
            spec = .conv2d(
                out: try r.int("out", range: 1...1 << 16), kernel: try r.int("kernel", default: 3, range: 1...64),
                stride: try r.int("stride", default: 1, range: 1...64),
                padding: try r.int("padding", default: 0, range: 0...64), bias: try r.bool("bias", default: true))
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
