/// Recurrent layers over [batch, time, features], with PyTorch's parameter names and layouts
/// (`weight_ih_l0` [gates*H, in], `weight_hh_l0` [gates*H, H], `bias_ih_l0`, `bias_hh_l0`).
/// The input projection of all time steps is one GEMM; only the hidden projection loops.
public final class RNN: Module {
    public let weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
    /// Return every step's hidden state [B, T, H] rather than the last one [B, H].
    public let returnSequence: Bool
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// Elman RNN with tanh; PyTorch's initialisation: everything uniform in +-1/sqrt(hidden).
    public init(inputSize: Int, hiddenSize: Int, returnSequence: Bool = false, key: InitKey = InitKey()) {
        (weightIH, weightHH, biasIH, biasHH) = Recurrence.weights(
            gates: 1, input: inputSize, hidden: hiddenSize, key: key)
        self.returnSequence = returnSequence
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors {
        Recurrence.named(weightIH, weightHH, biasIH, biasHH)
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h0 = Tensor(zeros: [x.shape[0], weightHH.shape[0]])
        let hs = RNN.sequence(x, h0: h0, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
        return returnSequence ? Recurrence.stack(hs) : hs.last!
    }

    /// Hidden states of every step: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).
    public static func sequence(
        _ x: Tensor, h0: Tensor, weightIH: Tensor, weightHH: Tensor,
        biasIH: Tensor, biasHH: Tensor
    ) -> [Tensor] {
        let proj = Recurrence.inputProjection(x, weightIH, biasIH)
        var h = h0
        var out: [Tensor] = []
        for step in proj {
            h = (step + Tensor.linear(h, weight: weightHH, bias: biasHH)).tanh()
            out.append(h)
        }
        return out
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        try Recurrence.outputShape(
            input, inputSize: weightIH.shape[1], hidden: weightHH.shape[0],
            sequence: returnSequence, op: "rnn")
    }
}

/// Long short-term memory with PyTorch's gate order i, f, g, o.
public final class LSTM: Module {
    public let weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
    /// Return every step's hidden state [B, T, H] rather than the last one [B, H].
    public let returnSequence: Bool
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// PyTorch's initialisation: everything uniform in +-1/sqrt(hidden).
    public init(inputSize: Int, hiddenSize: Int, returnSequence: Bool = false, key: InitKey = InitKey()) {
        (weightIH, weightHH, biasIH, biasHH) = Recurrence.weights(
            gates: 4, input: inputSize, hidden: hiddenSize, key: key)
        self.returnSequence = returnSequence
    }

    /// This layer's own trainable tensors, named as PyTorch names them.
    public var localParameters: NamedTensors {
        Recurrence.named(weightIH, weightHH, biasIH, biasHH)
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let hidden = weightHH.shape[1]
        var h = Tensor(zeros: [x.shape[0], hidden])
        var c = Tensor(zeros: [x.shape[0], hidden])
        var out: [Tensor] = []
        for step in Recurrence.inputProjection(x, weightIH, biasIH) {
            (h, c) = LSTM.cell(projectedInput: step, h: h, c: c, weightHH: weightHH, biasHH: biasHH)
            out.append(h)
        }
        return returnSequence ? Recurrence.stack(out) : out.last!
    }

    /// One step from the raw input: (h', c') for x [B, in], h and c [B, H].
    public static func cell(
        _ x: Tensor, h: Tensor, c: Tensor, weightIH: Tensor, weightHH: Tensor,
        biasIH: Tensor, biasHH: Tensor
    ) -> (Tensor, Tensor) {
        cell(
            projectedInput: Tensor.linear(x, weight: weightIH, bias: biasIH), h: h, c: c,
            weightHH: weightHH, biasHH: biasHH)
    }

    /// One step given x W_ih^T + b_ih: gates = that + h W_hh^T + b_hh, split as i, f, g, o.
    public static func cell(projectedInput: Tensor, h: Tensor, c: Tensor, weightHH: Tensor, biasHH: Tensor) -> (
        Tensor, Tensor
    ) {
        let hidden = weightHH.shape[1]
        let gates = projectedInput + Tensor.linear(h, weight: weightHH, bias: biasHH)
        func gate(_ k: Int) -> Tensor { gates.sliced(alongAxis: 1, k * hidden..<(k + 1) * hidden) }
        let i = gate(0).sigmoid()
        let f = gate(1).sigmoid()
        let g = gate(2).tanh()
        let o = gate(3).sigmoid()
        let cNext = f * c + i * g
        return (o * cNext.tanh(), cNext)
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] {
        try Recurrence.outputShape(
            input, inputSize: weightIH.shape[1], hidden: weightHH.shape[1],
            sequence: returnSequence, op: "lstm")
    }
}

/// Pieces the recurrent layers share.
enum Recurrence {
    /// PyTorch's initialisation of weight_ih [gates*H, in], weight_hh [gates*H, H] and both
    /// biases: everything uniform in +-1/sqrt(hidden).
    static func weights(gates: Int, input: Int, hidden: Int, key: InitKey) -> (Tensor, Tensor, Tensor, Tensor) {
        let bound = 1 / Float(hidden).squareRoot()
        return (
            key.uniform([gates * hidden, input], bound: bound, param: 0),
            key.uniform([gates * hidden, hidden], bound: bound, param: 1),
            key.uniform([gates * hidden], bound: bound, param: 2),
            key.uniform([gates * hidden], bound: bound, param: 3)
        )
    }

    /// PyTorch's names for one layer's recurrent parameters.
    static func named(_ ih: Tensor, _ hh: Tensor, _ bih: Tensor, _ bhh: Tensor) -> NamedTensors {
        [("weight_ih_l0", ih), ("weight_hh_l0", hh), ("bias_ih_l0", bih), ("bias_hh_l0", bhh)]
    }

    /// x [B, T, in] -> T tensors [B, gates*H]: x W^T + b for all steps in one GEMM.
    static func inputProjection(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> [Tensor] {
        precondition(x.rank == 3, "recurrent layer: input must be [batch, time, features], got \(x.shape)")
        let proj = Tensor.linear(x, weight: w, bias: b)  // [B, T, G]
        let steps = x.shape[1]
        let g = w.shape[0]
        let batch = x.shape[0]
        return (0..<steps).map { proj.sliced(alongAxis: 1, $0..<$0 + 1).reshaped(to: [batch, g]) }
    }

    /// T tensors [B, H] -> [B, T, H].
    static func stack(_ hs: [Tensor]) -> Tensor {
        Tensor.concatenating(hs.map { $0.reshaped(to: [$0.shape[0], 1, $0.shape[1]]) }, alongAxis: 1)
    }

    static func outputShape(_ input: [Int], inputSize: Int, hidden: Int, sequence: Bool, op: String) throws -> [Int] {
        guard input.count == 3, input[2] == inputSize else {
            throw ShapeError(op, "input must be [batch, time, \(inputSize)], got \(input)")
        }
        return sequence ? [input[0], input[1], hidden] : [input[0], hidden]
    }
}
