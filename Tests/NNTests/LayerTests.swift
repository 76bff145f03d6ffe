import Foundation
import NN
import TestSupport
import Testing

@Suite struct LayerTests {
    @Test func lstmCellMatchesTorch() {
        checkAgainstTorch("lstm_cell_h_then_c") { xs, _ in
            let (h, c) = LSTM.cell(
                xs[0], h: xs[1], c: xs[2], weightIH: xs[3], weightHH: xs[4], biasIH: xs[5], biasHH: xs[6])
            return Tensor.concatenating([h, c], alongAxis: 1)
        }
    }

    @Test func lstmCellFiniteDifferences() {
        checkFiniteDifferences([[2, 3], [2, 2], [2, 2], [8, 3], [8, 2], [8], [8]]) { xs in
            let (h, c) = LSTM.cell(
                xs[0], h: xs[1], c: xs[2], weightIH: xs[3], weightHH: xs[4], biasIH: xs[5], biasHH: xs[6])
            return Tensor.concatenating([h, c], alongAxis: 1)
        }
    }

    @Test func rnnSequenceMatchesTorch() {
        checkAgainstTorch("rnn_tanh_sequence", .loose) { xs, _ in
            let hs = RNN.sequence(xs[0], h0: xs[1], weightIH: xs[2], weightHH: xs[3], biasIH: xs[4], biasHH: xs[5])
            return Tensor.concatenating(hs.map { $0.reshaped(to: [$0.shape[0], 1, $0.shape[1]]) }, alongAxis: 1)
        }
    }

    @Test func linearAndConvLayersMatchTorch() {
        let lin = Fixtures.named("linear")
        let layer = Linear(inFeatures: 6, outFeatures: 4)
        try! layer.load([("weight", lin.inputs![1].tensor), ("bias", lin.inputs![2].tensor)], source: "fixture")
        expectClose(layer(lin.inputs![0].tensor).scalars, lin.output!.data, .float32, "Linear layer")

        let conv = Fixtures.named("conv2d_s2_p1")
        let c = Conv2d(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1)
        try! c.load([("weight", conv.inputs![1].tensor), ("bias", conv.inputs![2].tensor)], source: "fixture")
        expectClose(c(conv.inputs![0].tensor).scalars, conv.output!.data, .loose, "Conv2d layer")
    }

    @Test func poolingLayersMatchTorch() {
        let mp = Fixtures.named("max_pool2d_k2")
        let ap = Fixtures.named("avg_pool2d_k2")
        expectClose(MaxPool2d(kernel: 2)(mp.inputs![0].tensor).scalars, mp.output!.data, .float32, "MaxPool2d")
        expectClose(AvgPool2d(kernel: 2)(ap.inputs![0].tensor).scalars, ap.output!.data, .float32, "AvgPool2d")
    }

    @Test func recurrentLayersReturnLastOrWholeSequence() throws {
        let x = Tensor.randomNormal([3, 5, 2], seed: 1)
        let last = LSTM(inputSize: 2, hiddenSize: 4)
        let seq = LSTM(inputSize: 2, hiddenSize: 4, returnSequence: true)
        #expect(last(x).shape == [3, 4])
        #expect(seq(x).shape == [3, 5, 4])
        #expect(Array(seq(x).sliced(alongAxis: 1, 4..<5).scalars) == last(x).scalars)
        #expect(RNN(inputSize: 2, hiddenSize: 4, returnSequence: true)(x).shape == [3, 5, 4])
        #expect(try seq.outputShape(for: [3, 5, 2]) == [3, 5, 4])
        #expect(throws: ShapeError.self) { try last.outputShape(for: [3, 5, 3]) }
    }

    @Test func defaultInitialisationBoundsAsPyTorch() {
        let l = Linear(inFeatures: 100, outFeatures: 50, key: InitKey(seed: 3, layer: 1))
        let bound: Float = 1 / 10
        #expect(l.weight.scalars.allSatisfy { abs($0) <= bound })
        #expect(l.weight.scalars.map { abs($0) }.max()! > 0.95 * bound)  // fills the range
        #expect(l.bias!.scalars.allSatisfy { abs($0) <= bound })
        let c = Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3)
        #expect(c.weight.scalars.allSatisfy { abs($0) <= 1 / Float(18).squareRoot() })
        let r = LSTM(inputSize: 7, hiddenSize: 16)
        #expect(r.weightIH.scalars.allSatisfy { abs($0) <= 0.25 })
        // Same key, same weights; another layer index, other weights.
        #expect(
            Linear(inFeatures: 100, outFeatures: 50, key: InitKey(seed: 3, layer: 1)).weight.scalars == l.weight.scalars
        )
        #expect(
            Linear(inFeatures: 100, outFeatures: 50, key: InitKey(seed: 3, layer: 2)).weight.scalars != l.weight.scalars
        )
    }

    @Test func dropoutMaskIsKeyedBySampleNotPosition() {
        let d = Dropout(p: 0.25, layer: 3)
        d.randomContext = RandomContext(seed: 9, step: 4, sampleIDs: [10, 11, 12, 13])
        let full = d.mask(for: [4, 1000])
        d.randomContext = RandomContext(seed: 9, step: 4, sampleIDs: [12, 13])
        let half = d.mask(for: [2, 1000])
        #expect(Array(full.scalars[2000...]) == half.scalars)  // same sample, same mask on any rank
        let kept = full.scalars.reduce(0, +) / Float(full.count)
        #expect(abs(kept - 0.75) < 0.02, "kept fraction \(kept)")
        d.randomContext.step = 5
        #expect(d.mask(for: [2, 1000]).scalars != half.scalars)  // a new step draws anew
    }

    @Test func dropoutIsIdentityInEvalMode() {
        let model = Sequential(Dropout(p: 0.5))
        let x = Tensor.randomNormal([4, 8], seed: 1)
        model.eval()
        #expect(model(x).scalars == x.scalars)
        model.train()
        #expect(model(x).scalars != x.scalars)
    }
}

/// Layers for residual networks (issue 12, first part).
@Suite struct ResidualNetworkLayerTests {
    /// AdaptiveAvgPool2d(1) + Flatten: each channel's mean, [N, C, H, W] -> [N, C].
    @Test func globalAveragePoolIsTheChannelMean() throws {
        let x = Tensor((0..<24).map { Float($0) }, shape: [2, 3, 2, 2])
        let y = GlobalAvgPool2d()(x)
        #expect(y.shape == [2, 3])
        #expect(y.scalars == (0..<6).map { c in Float(4 * c) + 1.5 })  // mean of 4c...4c+3
        #expect(try GlobalAvgPool2d().outputShape(for: [5, 7, 3, 3]) == [5, 7])
        #expect(throws: ShapeError.self) { try GlobalAvgPool2d().outputShape(for: [5, 7]) }
        checkFiniteDifferences([[2, 3, 3, 2]]) { GlobalAvgPool2d()($0[0]) }
    }

    /// `bias: false` as PyTorch's `bias=False`: no bias parameter, no bias in the state dict.
    @Test func convolutionWithoutBias() {
        let conv = Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, bias: false)
        #expect(Sequential(conv).namedParameters.map(\.name) == ["0.weight"])
        let x = Tensor.randomNormal([1, 2, 4, 4], seed: 3)
        #expect(conv(x).scalars == Tensor.conv2d(x, weight: conv.weight, bias: nil, padding: 1).scalars)
    }
}

/// A residual block: body(x) + shortcut(x), PyTorch's names for its children.
@Suite struct ResidualBlockTests {
    @Test func residualAddsBodyAndShortcutWithPyTorchNames() {
        let body = Sequential(Linear(inFeatures: 4, outFeatures: 4, key: InitKey(seed: 1, layer: 1)), ReLU())
        let identity = Residual(body: body)
        let x = Tensor.randomNormal([3, 4], seed: 2)
        #expect(identity(x).scalars == (body(x) + x).scalars)
        let projection = Sequential(Linear(inFeatures: 4, outFeatures: 4, bias: false, key: InitKey(seed: 1, layer: 2)))
        let block = Residual(body: body, shortcut: projection)
        #expect(block(x).scalars == (body(x) + projection(x)).scalars)
        #expect(
            Sequential(Flatten(), block).namedParameters.map(\.name) == [
                "1.body.0.weight", "1.body.0.bias", "1.shortcut.0.weight",
            ])
        checkFiniteDifferences([[2, 4]]) { block($0[0]) }
        #expect(throws: ShapeError.self) {
            try Residual(body: Sequential(Linear(inFeatures: 4, outFeatures: 3))).outputShape(for: [2, 4])
        }
    }
}

/// LayerNorm over the last axis (biased variance, eps inside the root), as PyTorch's.
@Suite struct LayerNormTests {
    @Test func layerNormMatchesItsClosedFormAndFiniteDifferences() {
        let norm = LayerNorm(dim: 4, eps: 1e-5)
        norm.weight.data[1] = 2
        norm.bias.data[2] = -1
        let x = Tensor([1, 2, 3, 4, -1, 0, 5, 2], shape: [2, 4])
        let y = norm(x)
        var expected: [Double] = []
        for r in 0..<2 {
            let row = (0..<4).map { Double(x.scalars[r * 4 + $0]) }
            let mean = row.reduce(0, +) / 4
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            for (j, v) in row.enumerated() {
                expected.append(
                    (v - mean) / (variance + 1e-5).squareRoot() * Double(norm.weight.scalars[j])
                        + Double(norm.bias.scalars[j]))
            }
        }
        expectClose(y.scalars, expected, .float32, "layernorm")
        #expect(Sequential(norm).namedParameters.map(\.name) == ["0.weight", "0.bias"])
        checkFiniteDifferences([[3, 5]]) { LayerNorm(dim: 5)($0[0]) }
    }
}
