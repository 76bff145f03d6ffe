import Tensor
import TestSupport
import Testing

@Suite struct EndToEndTests {
    /// The classic example: y = 3x + 2 + noise, fitted by a two-layer (linear, linear) network
    /// with plain full-batch gradient descent written out by hand.
    @Test func twoLayerNetworkRecoversSlopeAndIntercept() {
        let n = 512
        let x = Tensor.randomUniform([n, 1], low: -2, high: 2, seed: 11, purpose: .data)
        let noise = Tensor.randomNormal([n, 1], std: 0.1, seed: 11, purpose: .data, stream: 1)
        let y = withoutGrad { x * 3 + 2 + noise }
        let w1 = Tensor.randomUniform([8, 1], low: -1, high: 1, seed: 1, requiresGrad: true)
        let b1 = Tensor(zeros: [8], requiresGrad: true)
        let w2 = Tensor.randomUniform([1, 8], low: -0.3, high: 0.3, seed: 1, stream: 1, requiresGrad: true)
        let b2 = Tensor(zeros: [1], requiresGrad: true)
        let params = [w1, b1, w2, b2]
        func predict(_ x: Tensor) -> Tensor {
            Tensor.linear(Tensor.linear(x, weight: w1, bias: b1), weight: w2, bias: b2)
        }
        var loss: Float = 0
        for _ in 0..<400 {
            params.forEach { $0.zeroGrad() }
            let l = (predict(x) - y).pow(2).mean()
            l.backward()
            loss = l.item
            for p in params { for i in 0..<p.count { p.data[i] -= 0.05 * p.grad!.data[i] } }
        }
        let probe = withoutGrad { predict(Tensor([0, 1], shape: [2, 1])).scalars }
        let intercept = probe[0]
        let slope = probe[1] - probe[0]
        #expect(abs(slope - 3) < 0.05, "slope \(slope)")
        #expect(abs(intercept - 2) < 0.05, "intercept \(intercept)")
        #expect(loss < 0.02, "final mse \(loss) (noise variance is 0.01)")
    }
}
