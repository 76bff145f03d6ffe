import Foundation
import NN
import SwiftProtobuf

/// Writes a trained model as an ONNX graph (opset 17) that a serving stack runs on raw data: the
/// input is what the data files hold (pixel bytes as float32 0-255, features as read, token ids
/// as int64), the preprocessing a run applied is the graph's first nodes, the batch axis is
/// dynamic, the weights are initializers, and the output is the model's (logits or values).
public enum ONNXExport {
    /// The opset written: LayerNormalization needs 17; GELU is spelled with Erf (Gelu is 20).
    public static let opset = 17

    /// How raw input became the network's input in training: x * scale + shift (bytes scaled
    /// by 1/255 and normalized), or token ids taken as they are.
    public struct Input: Sendable {
        /// The shape of one sample (the graph adds the batch axis).
        public var sampleShape: [Int]
        /// Raw values are multiplied by this.
        public var scale: Float
        /// Then this is added.
        public var shift: Float
        /// The input is int64 token ids (no scaling).
        public var tokenIDs: Bool
        /// An input description.
        public init(sampleShape: [Int], scale: Float = 1, shift: Float = 0, tokenIDs: Bool = false) {
            self.sampleShape = sampleShape
            self.scale = scale
            self.shift = shift
            self.tokenIDs = tokenIDs
        }
    }

    /// A layer the exporter does not know (a custom Swift `Module`).
    public struct Unsupported: Error, CustomStringConvertible {
        /// The layer's type name.
        public let layer: String
        /// The message as one line.
        public var description: String {
            "cannot export \(layer) to ONNX (supported: Tandem's own layers; see docs/MODELS.md)"
        }
    }

    /// The serialized ModelProto of `model` (in evaluation mode: dropout as identity, batch norm
    /// with its running statistics).
    public static func export(_ model: Module, input: Input, name: String) throws -> Data {
        var g = GraphBuilder()
        let inputName = "input"
        var x = GraphBuilder.Value(name: inputName, shape: [1] + input.sampleShape)
        if !input.tokenIDs && (input.scale != 1 || input.shift != 0) {
            let scaled = g.node("Mul", [x.name, g.constant([input.scale], dims: [], hint: "input_scale")])[0]
            x.name = g.node("Add", [scaled, g.constant([input.shift], dims: [], hint: "input_shift")])[0]
        }
        x = try emit(model, x, &g)
        var graph = g.graph
        graph.name = name
        graph.input = [
            GraphBuilder.valueInfo(inputName, shape: [1] + input.sampleShape, type: input.tokenIDs ? .int64 : .float)
        ]
        // The last value is renamed "output" by an Identity, so the graph's output has a plain name.
        var out = Onnx_NodeProto()
        out.opType = "Identity"
        out.input = [x.name]
        out.output = ["output"]
        out.name = "output_node"
        graph.node.append(out)
        graph.output = [GraphBuilder.valueInfo("output", shape: x.shape, type: .float)]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "tandem"
        m.producerVersion = "0.1.0"
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(Self.opset)
        m.opsetImport = [opset]
        m.graph = graph
        return try m.serializedData()
    }

    /// An LSTM or RNN layer (ONNX's operators of those names).
    static func recurrentLayer(_ module: Module, _ x: GraphBuilder.Value, _ g: inout GraphBuilder) -> GraphBuilder.Value
    {
        if let r = module as? LSTM {
            return recurrent(
                "LSTM", x, weightIH: r.weightIH, weightHH: r.weightHH, biasIH: r.biasIH, biasHH: r.biasHH,
                gates: 4, returnSequence: r.returnSequence, &g)
        }
        guard let r = module as? RNN else { preconditionFailure("recurrentLayer: \(type(of: module))") }
        return recurrent(
            "RNN", x, weightIH: r.weightIH, weightHH: r.weightHH, biasIH: r.biasIH, biasHH: r.biasHH,
            gates: 1, returnSequence: r.returnSequence, &g)
    }

    /// A 2-d window's kernel_shape, strides and pads (the same padding on every side).
    static func windowAttributes(_ kernel: [Int], _ stride: Int, _ padding: Int) -> [Onnx_AttributeProto] {
        [
            Attribute.ints("kernel_shape", kernel), Attribute.ints("strides", [stride, stride]),
            Attribute.ints("pads", [padding, padding, padding, padding]),
        ]
    }

    /// The nodes of one module applied to `x`.
    static func emit(_ module: Module, _ x: GraphBuilder.Value, _ g: inout GraphBuilder) throws -> GraphBuilder.Value {
        let shape = try module.outputShape(for: x.shape)
        func one(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> GraphBuilder.Value {
            GraphBuilder.Value(name: g.node(op, inputs, attributes)[0], shape: shape)
        }
        switch module {
        case let s as Sequential:
            var v = x
            for layer in s.layers { v = try emit(layer, v, &g) }
            return v
        case let l as Linear: return linear(x, weight: l.weight, bias: l.bias, &g)
        case let a as Activation: return activation(a.kind, x, &g)
        case is Dropout: return one("Identity", [x.name])
        case is Flatten: return one("Flatten", [x.name], [Attribute.int("axis", 1)])
        case is GlobalAvgPool2d:
            let pooled = g.node("GlobalAveragePool", [x.name])[0]
            return one("Flatten", [pooled], [Attribute.int("axis", 1)])
        case let c as Conv2d:
            var inputs = [x.name, g.weight(c.weight, hint: "conv_weight")]
            if let b = c.bias { inputs.append(g.weight(b, hint: "conv_bias")) }
            return one("Conv", inputs, windowAttributes(Array(c.weight.shape[2...]), c.stride, c.padding))
        case let p as Pool2d:
            var attributes = windowAttributes([p.kernel, p.kernel], p.stride, p.padding)
            if p.kind == .average { attributes.append(Attribute.int("count_include_pad", 1)) }  // PyTorch's default
            return one(p.kind == .max ? "MaxPool" : "AveragePool", [x.name], attributes)
        case let b as BatchNorm:
            let inputs = [
                x.name, g.weight(b.weight, hint: "bn_scale"), g.weight(b.bias, hint: "bn_bias"),
                g.weight(b.runningMean, hint: "bn_mean"), g.weight(b.runningVar, hint: "bn_var"),
            ]
            return one("BatchNormalization", inputs, [Attribute.float("epsilon", b.eps)])
        case let n as LayerNorm:
            let inputs = [x.name, g.weight(n.weight, hint: "ln_scale"), g.weight(n.bias, hint: "ln_bias")]
            return one("LayerNormalization", inputs, [Attribute.int("axis", -1), Attribute.float("epsilon", n.eps)])
        case let r as Residual:
            let body = try emit(r.body, x, &g)
            let skip = try r.shortcut.map { try emit($0, x, &g) } ?? x
            return one("Add", [body.name, skip.name])
        case let e as Embedding:
            return one("Gather", [g.weight(e.weight, hint: "embedding"), x.name], [Attribute.int("axis", 0)])
        case let p as Positional:
            let t = x.shape[1]
            let rows = Array(p.weight.scalars[0..<t * p.weight.shape[1]])
            return one("Add", [x.name, g.constant(rows, dims: [t, p.weight.shape[1]], hint: "positions")])
        case let a as MultiheadAttention: return attention(a, x, &g)
        case let t as TransformerEncoderLayer:
            let attended = one("Add", [x.name, try emit(t.selfAttention, try emit(t.norm1, x, &g), &g).name])
            let hidden = activation(.gelu, try emit(t.linear1, try emit(t.norm2, attended, &g), &g), &g)
            return one("Add", [attended.name, try emit(t.linear2, hidden, &g).name])
        case is LSTM, is RNN: return recurrentLayer(module, x, &g)
        default:
            throw Unsupported(layer: String(describing: type(of: module)))
        }
    }

    /// x W^T + b: Gemm for [N, in], MatMul and Add for [N, T, in].
    static func linear(
        _ x: GraphBuilder.Value, weight: Tensor, bias: Tensor?, _ g: inout GraphBuilder
    ) -> GraphBuilder.Value {
        let (out, input) = (weight.shape[0], weight.shape[1])
        let shape = Array(x.shape.dropLast()) + [out]
        if x.shape.count == 2 {
            var inputs = [x.name, g.weight(weight, hint: "weight")]
            if let bias { inputs.append(g.weight(bias, hint: "bias")) }
            return .init(name: g.node("Gemm", inputs, [Attribute.int("transB", 1)])[0], shape: shape)
        }
        let w = weight.scalars  // one copy: `scalars` makes a new array on every access
        let transposed = (0..<input * out).map { w[($0 % out) * input + $0 / out] }
        var y = g.node("MatMul", [x.name, g.constant(transposed, dims: [input, out], hint: "weight_t")])[0]
        if let bias { y = g.node("Add", [y, g.weight(bias, hint: "bias")])[0] }
        return .init(name: y, shape: shape)
    }

    static func activation(
        _ kind: Activation.Kind, _ x: GraphBuilder.Value, _ g: inout GraphBuilder
    ) -> GraphBuilder.Value {
        let y: String
        switch kind {
        case .relu: y = g.node("Relu", [x.name])[0]
        case .sigmoid: y = g.node("Sigmoid", [x.name])[0]
        case .tanh: y = g.node("Tanh", [x.name])[0]
        case .elu: y = g.node("Elu", [x.name], [Attribute.float("alpha", 1)])[0]
        case .softmax: y = g.node("Softmax", [x.name], [Attribute.int("axis", -1)])[0]
        case .gelu:  // exact GELU: x * 0.5 * (1 + erf(x / sqrt 2))
            let scaled = g.node("Mul", [x.name, g.constant([Float(0.5).squareRoot()], dims: [], hint: "rsqrt2")])[0]
            let erf = g.node("Erf", [scaled])[0]
            let plus = g.node("Add", [erf, g.constant([1], dims: [], hint: "one")])[0]
            let half = g.node("Mul", [x.name, g.constant([0.5], dims: [], hint: "half")])[0]
            y = g.node("Mul", [half, plus])[0]
        }
        return .init(name: y, shape: x.shape)
    }
}
