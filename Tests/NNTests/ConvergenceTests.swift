import Foundation
import NN
import Optim
import Testing

/// Small problems that a correct stack of layers, losses and optimizers must learn.
@Suite struct ConvergenceTests {
    @Test func mlpLearnsXOR() {
        let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
        let labels = [0, 1, 1, 0]
        let model = Sequential(
            Linear(inFeatures: 2, outFeatures: 8, key: InitKey(seed: 1, layer: 0)), Tanh(),
            Linear(inFeatures: 8, outFeatures: 2, key: InitKey(seed: 1, layer: 2)))
        let opt = Adam(model.namedParameters, learningRate: 0.05)
        for _ in 0..<300 {
            opt.zeroGrad()
            Tensor.crossEntropy(logits: model(x), labels: labels).backward()
            opt.step()
        }
        let predicted = withoutGrad { model(x).argmax(alongAxis: 1) }
        #expect(predicted == labels)
    }

    @Test func linearRegressionWithSGDRecoversTheLine() {
        let x = Tensor.randomUniform([256, 1], low: -2, high: 2, seed: 4, purpose: .data)
        let y = withoutGrad { x * 3 + 2 + Tensor.randomNormal([256, 1], std: 0.5, seed: 4, purpose: .data, stream: 1) }
        let model = Linear(inFeatures: 1, outFeatures: 1)
        let opt = SGD(model.namedParameters, learningRate: 0.1, momentum: 0.9)
        for _ in 0..<200 {
            opt.zeroGrad()
            Tensor.meanSquaredError(model(x), y).backward()
            opt.step()
        }
        #expect(abs(model.weight.item - 3) < 0.1, "slope \(model.weight.item)")
        #expect(abs(model.bias!.item - 2) < 0.1, "intercept \(model.bias!.item)")
    }

    /// Next value of a sine wave from the previous 10: an LSTM gets the MSE below 0.01.
    @Test func lstmPredictsASineWave() {
        let (n, steps) = (64, 10)
        var xs = [Float]()
        var ys = [Float]()
        for i in 0..<n {
            let phase = Float(i) * 0.37
            for t in 0..<steps { xs.append(sin(phase + Float(t) * 0.3)) }
            ys.append(sin(phase + Float(steps) * 0.3))
        }
        let x = Tensor(xs, shape: [n, steps, 1])
        let y = Tensor(ys, shape: [n, 1])
        let model = Sequential(
            LSTM(inputSize: 1, hiddenSize: 16, key: InitKey(seed: 2, layer: 0)),
            Linear(inFeatures: 16, outFeatures: 1, key: InitKey(seed: 2, layer: 1)))
        let opt = Adam(model.namedParameters, learningRate: 0.01)
        var loss: Float = 1
        for _ in 0..<200 {
            opt.zeroGrad()
            let l = Tensor.meanSquaredError(model(x), y)
            l.backward()
            opt.step()
            loss = l.item
        }
        #expect(loss < 0.01, "final mse \(loss)")
    }
}
