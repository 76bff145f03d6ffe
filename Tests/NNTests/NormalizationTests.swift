import NN
import TestSupport
import Testing

/// BatchNorm1d/2d as PyTorch's: batch statistics in training (and the running statistics they
/// leave), running statistics in evaluation; state_dict names and the I64 counter.
@Suite struct BatchNormTests {
    /// A BatchNorm holding the case's weight and bias (inputs 1 and 2).
    func layer(_ xs: [Tensor]) -> BatchNorm {
        let bn = BatchNorm(channels: xs[1].count)
        bn.weight.assign(xs[1])
        bn.bias.assign(xs[2])
        return bn
    }

    @Test(arguments: ["batchnorm1d_train", "batchnorm1d_3d_train", "batchnorm2d_train"])
    func trainingMatchesPyTorch(_ name: String) {
        checkModuleAgainstTorch(name) { xs, _ in
            let bn = layer(xs)
            let y = bn(xs[0])
            let buffers = Fixtures.named(name).buffers!
            expectClose(bn.runningMean.scalars, buffers["running_mean"]!.data, .float32, "\(name) running_mean")
            expectClose(bn.runningVar.scalars, buffers["running_var"]!.data, .float32, "\(name) running_var")
            #expect(bn.numBatchesTracked.scalars == [1])
            return (y, [xs[0], bn.weight, bn.bias])
        }
    }

    @Test func evaluationUsesRunningStatistics() {
        checkModuleAgainstTorch("batchnorm2d_eval") { xs, _ in
            let bn = layer(xs)
            let buffers = Fixtures.named("batchnorm2d_eval").buffers!
            bn.runningMean.assign(buffers["running_mean_before"]!.tensor)
            bn.runningVar.assign(buffers["running_var_before"]!.tensor)
            bn.eval()
            let y = bn(xs[0])
            #expect(bn.runningMean.scalars == buffers["running_mean_before"]!.tensor.scalars)
            #expect(bn.numBatchesTracked.scalars == [0])
            return (y, [xs[0], bn.weight, bn.bias])
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        checkFiniteDifferences([[4, 3, 2, 2], [3], [3]]) { xs in
            xs[0].batchNormalized(weight: xs[1], bias: xs[2], eps: 1e-5).out
        }
        checkFiniteDifferences([[5, 2], [2], [2]]) { xs in
            xs[0].batchNormalized(weight: xs[1], bias: xs[2], eps: 1e-5).out
        }
    }

    /// A synchronized pass over two halves of a batch equals one pass over the whole batch.
    @Test func summedStatisticsEqualTheWholeBatch() {
        let whole = randomInputs([[8, 3]], .any, seed: 5)[0]
        let w = Tensor([1.5, -0.5, 2], shape: [3], requiresGrad: true)
        let b = Tensor([0.1, 0.2, 0.3], shape: [3], requiresGrad: true)
        let (y, stats) = whole.batchNormalized(weight: w, bias: b, eps: 1e-5)
        // Two "ranks" in one process: each half's allreduce adds the other half's local sums.
        let halves = [Array(whole.scalars[0..<12]), Array(whole.scalars[12..<24])].map {
            Tensor($0, shape: [4, 3], requiresGrad: true)
        }
        func localSums(_ x: Tensor) -> [Double] {
            var v: [Double] = []
            _ = x.batchNormalized(weight: w, bias: b, eps: 1e-5, allreduce: { v = $0 })
            return v
        }
        let forward = halves.map(localSums)
        let outputs = halves.enumerated().map { k, x in
            x.batchNormalized(
                weight: w, bias: b, eps: 1e-5,
                allreduce: { v in
                    v = zip(v, forward[1 - k]).map { $0 + $1 }
                })
        }
        expectClose(
            outputs.flatMap { $0.out.scalars }, y.scalars.map(Double.init), .float32, "synchronized output")
        expectClose(outputs[0].statistics.mean, stats.mean.map(Double.init), .float32, "synchronized mean")
        expectClose(outputs[1].statistics.variance, stats.variance.map(Double.init), .float32, "synchronized var")
    }

    @Test func stateDictHasPyTorchNamesAndAnI64Counter() throws {
        let model = Sequential(Linear(inFeatures: 2, outFeatures: 3), BatchNorm(channels: 3))
        #expect(
            model.stateDict.map(\.name) == [
                "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                "1.num_batches_tracked",
            ])
        #expect(model.counterNames == ["1.num_batches_tracked"])
        _ = model(Tensor([1, 2, 3, 5, -1, 0], shape: [3, 2]))
        let bytes = Safetensors.encode(model.stateDict, int64: model.counterNames)
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + 256 * Int(bytes[1]))], as: UTF8.self)
        #expect(header.contains("\"1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[]"))
        let back = try Safetensors.decode(bytes, file: "model")
        let fresh = Sequential(Linear(inFeatures: 2, outFeatures: 3), BatchNorm(channels: 3))
        try fresh.load(back.tensors, source: "model")
        #expect(fresh.stateDict.map(\.tensor.scalars) == model.stateDict.map(\.tensor.scalars))
        #expect((fresh.layers[1] as? BatchNorm)?.numBatchesTracked.scalars == [1])
    }
}

@Suite struct LayerNormFixtureTests {
    @Test func layerNormMatchesPyTorch() {
        checkModuleAgainstTorch("layernorm_3d") { xs, _ in
            let norm = LayerNorm(dim: 6)
            norm.weight.assign(xs[1])
            norm.bias.assign(xs[2])
            return (norm(xs[0]), [xs[0], norm.weight, norm.bias])
        }
    }

    @Test func globalAveragePoolMatchesPyTorch() {
        checkModuleAgainstTorch("global_avgpool") { xs, _ in (GlobalAvgPool2d()(xs[0]), [xs[0]]) }
    }

    @Test func residualMatchesPyTorch() {
        checkModuleAgainstTorch("residual_linear_relu") { xs, _ in
            let linear = Linear(inFeatures: 4, outFeatures: 4)
            linear.weight.assign(xs[1])
            linear.bias!.assign(xs[2])
            return (Residual(body: Sequential(linear, ReLU()))(xs[0]), [xs[0], linear.weight, linear.bias!])
        }
    }
}

/// The fused layer norm op against finite differences (the fixtures check it against PyTorch).
@Suite struct LayerNormOpTests {
    @Test func layerNormGradientsMatchFiniteDifferences() {
        checkFiniteDifferences([[3, 2, 5], [5], [5]]) { xs in
            xs[0].layerNormalized(weight: xs[1], bias: xs[2], eps: 1e-5)
        }
    }
}
