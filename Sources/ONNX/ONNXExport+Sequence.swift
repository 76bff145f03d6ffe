import NN

/// The sequence layers: self-attention as MatMul/Softmax, recurrent layers as ONNX's LSTM and RNN.
extension ONNXExport {
    /// PyTorch's packed in-projection, heads split by Reshape/Transpose, scaled dot products,
    /// the causal mask as an added constant, softmax, heads merged, out_proj.
    static func attention(
        _ a: MultiheadAttention, _ x: GraphBuilder.Value, _ g: inout GraphBuilder
    ) -> GraphBuilder.Value {
        let (t, d, h) = (x.shape[1], x.shape[2], a.heads)
        let qkv = linear(x, weight: a.inProjWeight, bias: a.inProjBias, &g)
        let split = g.node("Reshape", [qkv.name, g.int64s([0, t, 3, h, d / h], hint: "qkv_shape")])[0]
        let heads = g.node("Transpose", [split], [Attribute.ints("perm", [2, 0, 3, 1, 4])])[0]  // [3, N, H, T, d/h]
        func part(_ k: Int) -> String {
            g.node("Gather", [heads, g.int64Scalar(k, hint: "qkv_index")], [Attribute.int("axis", 0)])[0]
        }
        let (q, k, v) = (part(0), part(1), part(2))
        let kT = g.node("Transpose", [k], [Attribute.ints("perm", [0, 1, 3, 2])])[0]
        let scores = g.node("MatMul", [q, kT])[0]
        var scaled = g.node("Mul", [scores, g.constant([1 / Float(d / h).squareRoot()], dims: [], hint: "scale")])[0]
        if a.causal {
            // Later positions get -1e30: exp makes them exactly 0, as Tandem's masked softmax.
            let mask = (0..<t * t).map { $0 % t > $0 / t ? Float(-1e30) : 0 }
            scaled = g.node("Add", [scaled, g.constant(mask, dims: [t, t], hint: "causal_mask")])[0]
        }
        let probs = g.node("Softmax", [scaled], [Attribute.int("axis", -1)])[0]
        let context = g.node("MatMul", [probs, v])[0]
        let merged = g.node("Transpose", [context], [Attribute.ints("perm", [0, 2, 1, 3])])[0]
        let flat = g.node("Reshape", [merged, g.int64s([0, t, d], hint: "merged_shape")])[0]
        return linear(.init(name: flat, shape: x.shape), weight: a.outProj.weight, bias: a.outProj.bias, &g)
    }

    /// ONNX's LSTM (gates i, o, f, c) or RNN (tanh) over time-major input, with PyTorch's weights
    /// (gates i, f, g, o) reordered; the last hidden state or every step's, batch-first again.
    static func recurrent(
        _ op: String, _ x: GraphBuilder.Value, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor,
        gates: Int, returnSequence: Bool, _ g: inout GraphBuilder
    ) -> GraphBuilder.Value {
        let hidden = weightHH.shape[1]
        let order = gates == 4 ? [0, 3, 1, 2] : [0]
        func reordered(_ t: Tensor) -> [Float] {
            let (values, block) = (t.scalars, t.count / gates)
            return order.flatMap { values[$0 * block..<($0 + 1) * block] }
        }
        let w = g.constant(reordered(weightIH), dims: [1, gates * hidden, weightIH.shape[1]], hint: "w")
        let r = g.constant(reordered(weightHH), dims: [1, gates * hidden, hidden], hint: "r")
        let b = g.constant(reordered(biasIH) + reordered(biasHH), dims: [1, 2 * gates * hidden], hint: "b")
        let timeMajor = g.node("Transpose", [x.name], [Attribute.ints("perm", [1, 0, 2])])[0]
        let outs = g.node(op, [timeMajor, w, r, b], outputs: 2, [Attribute.int("hidden_size", hidden)])
        if returnSequence {
            let steps = g.node("Squeeze", [outs[0], g.int64s([1], hint: "axes")])[0]  // [T, N, H]
            let y = g.node("Transpose", [steps], [Attribute.ints("perm", [1, 0, 2])])[0]
            return .init(name: y, shape: [x.shape[0], x.shape[1], hidden])
        }
        let last = g.node("Squeeze", [outs[1], g.int64s([0], hint: "axes")])[0]  // [N, H]
        return .init(name: last, shape: [x.shape[0], hidden])
    }
}
