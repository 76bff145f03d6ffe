import NN
import Optim
import TestSupport
import Testing

@Suite struct OptimizerTests {
    typealias Make = @Sendable (NamedTensors) -> Optimizer

    static let cases: [(String, Make)] = [
        ("sgd", { SGD($0, learningRate: 0.05) }),
        ("sgd_momentum", { SGD($0, learningRate: 0.05, momentum: 0.9) }),
        ("sgd_nesterov_wd", { SGD($0, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01) }),
        ("rmsprop", { RMSprop($0, learningRate: 0.005, alpha: 0.99, epsilon: 1e-8) }),
        ("adam", { Adam($0, learningRate: 0.005) }),
        ("adamw", { Adam.adamW($0, learningRate: 0.005, weightDecay: 0.01) }),
    ]

    /// Five steps from the fixture's start with its gradients match PyTorch after every step.
    @Test(arguments: cases.map(\.0))
    func matchesTorchStepByStep(_ name: String) {
        let make = Self.cases.first { $0.0 == name }!.1
        let c = Fixtures.named(name)
        let p = c.initial!.tensor
        p.requiresGrad = true
        let opt = make([("w", p)])
        for (k, (g, expected)) in zip(c.grads!, c.afterEachStep!).enumerated() {
            p.grad = g.tensor
            opt.step()
            expectClose(p.scalars, expected.data, .float32, "\(name) after step \(k + 1)")
        }
    }

    /// Saving state after two steps and restoring it into a fresh optimizer changes nothing.
    @Test(arguments: cases.map(\.0))
    func saveAndRestoreMidwayChangesNothing(_ name: String) throws {
        let make = Self.cases.first { $0.0 == name }!.1
        let c = Fixtures.named(name)
        let p = c.initial!.tensor
        p.requiresGrad = true
        var opt = make([("w", p)])
        for (k, g) in c.grads!.enumerated() {
            if k == 2 {
                let saved = opt.stateDict()
                let bytes = Safetensors.encode(saved.tensors, metadata: saved.metadata)
                let back = try Safetensors.decode(bytes, file: "state")
                opt = make([("w", p)])
                try opt.loadStateDict(back.tensors, metadata: back.metadata, source: "state")
                #expect(opt.stepCount == 2)
            }
            p.grad = g.tensor
            opt.step()
        }
        expectClose(p.scalars, c.afterEachStep!.last!.data, .float32, "\(name) with a restore after step 2")
    }

    @Test func stateNamesFollowTheParameters() {
        let model = Sequential(Flatten(), Linear(inFeatures: 4, outFeatures: 2))
        let names = Adam(model.namedParameters).stateDict().tensors.map(\.name)
        #expect(names == ["1.weight.exp_avg", "1.weight.exp_avg_sq", "1.bias.exp_avg", "1.bias.exp_avg_sq"])
        #expect(
            SGD(model.namedParameters, learningRate: 0.1, momentum: 0.9).stateDict().tensors.map(\.name)
                == ["1.weight.momentum_buffer", "1.bias.momentum_buffer"])
    }

    @Test func mismatchedStateIsRefused() {
        let p = Tensor(zeros: [2, 2])
        p.requiresGrad = true
        let saved = Adam([("w", p)]).stateDict()
        #expect(throws: OptimizerStateError.self) {
            try SGD([("w", p)], learningRate: 0.1, momentum: 0.9).loadStateDict(
                saved.tensors, metadata: saved.metadata, source: "x")
        }
        #expect(throws: OptimizerStateError.self) {
            try Adam([("v", p)]).loadStateDict(saved.tensors, metadata: saved.metadata, source: "x")
        }
    }

    /// A parameter with requiresGrad == false is not the optimizer's: no state, never updated,
    /// even by weight decay and even if it holds a gradient.
    @Test func frozenParametersAreLeftAlone() {
        let frozen = Tensor([1, 2], shape: [2])
        let live = Tensor([1, 2], shape: [2])
        live.requiresGrad = true
        frozen.grad = Tensor([1, 1], shape: [2])
        live.grad = Tensor([1, 1], shape: [2])
        let opt = Adam.adamW([("frozen", frozen), ("live", live)], learningRate: 0.1, weightDecay: 0.5)
        opt.step()
        #expect(frozen.scalars == [1, 2] && live.scalars != [1, 2])
        #expect(opt.stateDict().tensors.map(\.name) == ["live.exp_avg", "live.exp_avg_sq"])
    }

    @Test func schedules() {
        #expect(LRSchedule.constant.learningRate(base: 0.1, step: 99) == 0.1)
        let s = LRSchedule.stepDecay(every: 10, gamma: 0.5)
        #expect(s.learningRate(base: 0.1, step: 9) == 0.1 && s.learningRate(base: 0.1, step: 25) == 0.025)
        let c = LRSchedule.cosine(warmup: 4, total: 104, minimum: 0)
        #expect(c.learningRate(base: 1, step: 0) == 0.25 && c.learningRate(base: 1, step: 3) == 1)
        #expect(abs(c.learningRate(base: 1, step: 54) - 0.5) < 1e-6)
        #expect(abs(c.learningRate(base: 1, step: 104)) < 1e-6 && abs(c.learningRate(base: 1, step: 500)) < 1e-6)
    }

    @Test func clippingScalesToTheGlobalNorm() {
        let a = Tensor(zeros: [2])
        let b = Tensor(zeros: [1])
        a.grad = Tensor([3, 0], shape: [2])
        b.grad = Tensor([4], shape: [1])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(a.grad!.scalars[0] - 0.6) < 1e-5 && abs(b.grad!.scalars[0] - 0.8) < 1e-5)
        #expect(clipGradientNorm([a, b], maxNorm: 10) < 1.0001 && abs(a.grad!.scalars[0] - 0.6) < 1e-5)
    }
}
