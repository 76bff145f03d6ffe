import Foundation
import Tensor
import TestSupport
import Testing

/// Each op in one line: its PyTorch fixture case (named) and/or finite differences.
/// Ops without a PyTorch case are also checked against their closed form in Float64.
@Suite struct OpGradientTests {
    // Broadcasting arithmetic
    @Test func add() { checkOp("add_broadcast_row", [[5, 4], [4]]) { $0[0] + $0[1] } }
    @Test func addColumn() { checkOp("add_broadcast_col", [[3, 4], [3, 1]]) { $0[0] + $0[1] } }
    @Test func addGeneral() { checkOp(nil, [[2, 1, 3], [4, 1]]) { $0[0] + $0[1] } }
    @Test func sub() { checkOp("sub_broadcast_row", [[5, 4], [4]]) { $0[0] - $0[1] } }
    @Test func subScalarBroadcast() { checkOp(nil, [[1], [2, 3]]) { $0[0] - $0[1] } }
    @Test func mul() { checkOp("mul", [[5, 4], [5, 4]]) { $0[0] * $0[1] } }
    @Test func mulBroadcast() { checkOp("mul_broadcast_general", [[2, 3, 4], [3, 1]]) { $0[0] * $0[1] } }
    @Test func div() { checkOp("div", [[5, 4], [5, 4]], .positive) { $0[0] / $0[1] } }
    @Test func divBroadcast() { checkOp("div_broadcast_row", [[3, 4], [4]], .positive) { $0[0] / $0[1] } }
    @Test func scalarOps() { checkOp(nil, [[3, 4]]) { (2 - $0[0] * 3 + 1) / 4 } }
    @Test func negate() { checkOp(nil, [[3, 4]]) { -$0[0] } }

    // Elementwise functions
    @Test func relu() { checkOp("relu", [[5, 4]]) { $0[0].relu() } }
    @Test func sigmoid() { checkOp("sigmoid", [[5, 4]]) { $0[0].sigmoid() } }
    @Test func tanh() { checkOp("tanh", [[5, 4]]) { $0[0].tanh() } }
    @Test func gelu() { checkOp("gelu", [[5, 4]]) { $0[0].gelu() } }
    @Test func elu() { checkOp("elu", [[5, 4]]) { $0[0].elu() } }
    @Test func exp() { checkOp("exp", [[5, 4]]) { $0[0].exp() } }
    @Test func log() { checkOp("log", [[5, 4]], .positive) { $0[0].log() } }
    @Test func sqrt() {
        checkOp("sqrt", [[5, 4]], .positive) { $0[0].sqrt() }
        checkElementwise({ $0.sqrt() }, Foundation.sqrt, { 0.5 / Foundation.sqrt($0) })
    }
    @Test func pow() {
        checkOp("pow_2_5", [[5, 4]], .positive) { $0[0].pow(2.5) }
        checkElementwise({ $0.pow(2.5) }, { Foundation.pow($0, 2.5) }, { 2.5 * Foundation.pow($0, 1.5) })
    }
    @Test func clamp() {
        checkOp("clamp_m1_0_5", [[5, 4]]) { $0[0].clamped(min: -1, max: 0.5) }
        checkElementwise(
            { $0.clamped(min: 0.8, max: 1.5) }, { Swift.min(Swift.max($0, 0.8), 1.5) },
            { $0 >= 0.8 && $0 <= 1.5 ? 1 : 0 })
    }
    @Test func affine() { checkElementwise({ $0.affine(scale: -3, shift: 0.5) }, { -3 * $0 + 0.5 }, { _ in -3 }) }
    @Test func dropout() {
        let fixed = Fixtures.named("dropout_mask_p0_25").attrs!.mask!.tensor
        checkAgainstTorch("dropout_mask_p0_25") { xs, _ in xs[0].dropout(mask: fixed, p: 0.25) }
        let mask = Tensor([1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0], shape: [3, 4])
        checkOp(nil, [[3, 4]]) { $0[0].dropout(mask: mask, p: 0.25) }
        let y = Tensor(ones: [3, 4]).dropout(mask: mask, p: 0.25)
        #expect(y.scalars == mask.scalars.map { $0 / 0.75 })
    }

    // Reductions
    @Test func sumAxis() { checkOp("sum_axis1", [[5, 4]]) { $0[0].sum(alongAxis: 1) } }
    @Test func sumAxes() { checkOp("sum_axes_0_2", [[2, 3, 4]]) { $0[0].sum(alongAxes: [0, 2]) } }
    @Test func sumAll() { checkOp("sum_all", [[3, 4]]) { $0[0].sum() } }
    @Test func meanAll() { checkOp("mean_all", [[5, 4]]) { $0[0].mean() } }
    @Test func meanAxis() {
        checkOp("mean_axis1_keepdim", [[2, 3, 4]]) { $0[0].mean(alongAxis: -2, keepingDim: true) }
    }
    @Test func meanAxes() { checkOp(nil, [[2, 3, 4]]) { $0[0].mean(alongAxes: [1, 2]) } }
    @Test func maxAxis() { checkOp("max_axis1", [[3, 5]], .distinct) { $0[0].max(alongAxis: 1) } }
    @Test func maxAxes() { checkOp(nil, [[2, 3, 4]], .distinct) { $0[0].max(alongAxes: [0, 2], keepingDims: true) } }
    @Test func maxAll() { checkOp("max_all", [[3, 4]], .distinct) { $0[0].max() } }

    // Softmax family
    @Test func softmax() { checkOp("softmax_axis1", [[5, 4]]) { $0[0].softmax(alongAxis: 1) } }
    @Test func softmaxInnerAxis() { checkOp("softmax_axis1_of_3d", [[2, 3, 4]]) { $0[0].softmax(alongAxis: 1) } }
    @Test func logSoftmax() { checkOp("log_softmax_axis1", [[5, 4]]) { $0[0].logSoftmax(alongAxis: 1) } }
    @Test func logSoftmaxInnerAxis() {
        checkOp("log_softmax_axis0_of_3d", [[2, 3, 4]]) { $0[0].logSoftmax(alongAxis: 0) }
    }

    // Movement
    @Test func reshape() {
        checkOp("reshape_3_4", [[2, 6]]) { $0[0].reshaped(to: [3, -1]) * $0[0].reshaped(to: [3, 4]) }
    }
    @Test func transpose() { checkOp("transpose", [[3, 4]]) { $0[0].transposed() } }
    @Test func permute() { checkOp("permute_2_0_1", [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) } }
    @Test func slice() { checkOp("slice_rows_1_4", [[5, 3]]) { $0[0][1..<4] } }
    @Test func concat() {
        checkOp("concat_axis1", [[2, 3], [2, 2]]) { Tensor.concatenating([$0[0], $0[1]], alongAxis: 1) }
    }
    @Test func concatLeading() { checkOp(nil, [[2, 3], [1, 3]]) { Tensor.concatenating($0, alongAxis: 0) } }
    @Test func sliceAlongAxis() { checkOp("slice_axis1_2_5", [[2, 6, 3]]) { $0[0].sliced(alongAxis: 1, 2..<5) } }
    @Test func flatten() { checkOp(nil, [[2, 3, 2]]) { $0[0].flattened() } }

    // Products
    @Test func matmul() { checkOp("matmul", [[5, 6], [6, 4]]) { Tensor.matmul($0[0], $0[1]) } }
    @Test func matmulBatched() { checkOp("matmul_batched", [[2, 3, 4], [2, 4, 5]]) { Tensor.matmul($0[0], $0[1]) } }
    @Test func matmulSharedRight() {
        checkOp("matmul_shared_right", [[2, 3, 4], [4, 5]]) { Tensor.matmul($0[0], $0[1]) }
    }
    @Test func linear() {
        checkOp("linear", [[5, 6], [4, 6], [4]]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
    }
    @Test func linearNoBias() {
        checkOp(nil, [[2, 3, 6], [4, 6]]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
    }

    // Losses
    @Test func crossEntropy() {
        checkAgainstTorch("cross_entropy_mean") { xs, labels in Tensor.crossEntropy(logits: xs[0], labels: labels) }
        checkFiniteDifferences([[4, 5]]) { Tensor.crossEntropy(logits: $0[0], labels: [4, 0, 2, 2], reduction: .sum) }
    }
    @Test func mse() { checkOp("mse_mean", [[5, 4], [5, 4]]) { Tensor.meanSquaredError($0[0], $0[1]) } }
    @Test func bceWithLogits() {
        checkOp("binary_cross_entropy_with_logits_mean", [[5, 4], [5, 4]]) {
            Tensor.binaryCrossEntropyWithLogits($0[0], $0[1])
        }
    }
    @Test func lossSumIsBatchTimesMean() {
        let x = Tensor.randomNormal([6, 3], seed: 2)
        let labels = [0, 1, 2, 2, 1, 0]
        let mean = Tensor.crossEntropy(logits: x, labels: labels).item
        let sum = Tensor.crossEntropy(logits: x, labels: labels, reduction: .sum).item
        #expect(abs(sum - 6 * mean) < 1e-4)
    }

    // Images
    @Test(arguments: [("conv2d_s1_p0", 1, 0), ("conv2d_s1_p1", 1, 1), ("conv2d_s2_p1", 2, 1)])
    func conv2d(_ c: (String, Int, Int)) {
        checkOp(c.0, [[2, 3, 8, 6], [4, 3, 3, 3], [4]], .any, .loose) {
            Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: c.1, padding: c.2)
        }
    }
    @Test func conv2dRectangularKernel() {
        checkOp("conv2d_rect_s2_p1", [[1, 2, 5, 7], [3, 2, 2, 3]], .any, .loose) {
            Tensor.conv2d($0[0], weight: $0[1], bias: nil, stride: 2, padding: 1)
        }
    }
    @Test func maxPool() { checkOp("max_pool2d_k2", [[2, 3, 6, 8]], .distinct) { $0[0].maxPool2d(kernel: 2) } }
    @Test func maxPoolPaddedOverlapping() {
        checkOp("max_pool2d_k3_s2_p1", [[1, 2, 5, 5]], .distinct) { $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
    }
    @Test func avgPool() { checkOp("avg_pool2d_k2", [[2, 3, 6, 8]]) { $0[0].avgPool2d(kernel: 2) } }
    @Test func avgPoolPadded() {
        checkOp("avg_pool2d_k3_s2_p1", [[1, 2, 5, 5]]) { $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
    }
}

/// An elementwise op against its closed form and derivative, evaluated in Float64.
func checkElementwise(
    _ op: (Tensor) -> Tensor, _ f: (Double) -> Double, _ df: (Double) -> Double,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let x = randomInputs([[4, 5]], .positive, seed: 3)[0]
    let y = op(x)
    y.backward(seed: Tensor(ones: y.shape))
    let xs = x.scalars.map(Double.init)
    expectClose(y.scalars, xs.map(f), .float32, "closed-form output", sourceLocation: sourceLocation)
    expectClose(x.grad!.scalars, xs.map(df), .float32, "closed-form derivative", sourceLocation: sourceLocation)
}
