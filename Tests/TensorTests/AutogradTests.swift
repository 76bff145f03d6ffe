import Foundation
import Tensor
import TestSupport
import Testing

@Suite struct AutogradTests {
    @Test func valueUsedTwiceAddsGradients() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        (x * x + x).sum().backward()
        #expect(x.grad!.scalars == [3, 5, 7])  // d/dx (x^2 + x) = 2x + 1
    }

    @Test func diamondGraphWalksEachNodeOnce() {
        let x = Tensor([0.5, -1], shape: [2], requiresGrad: true)
        let h = x.exp()
        let y = (h * 2 + h.tanh()).sum()
        y.backward()
        let e = x.scalars.map { Foundation.exp(Double($0)) }
        let expected = e.map { 2 * $0 + (1 - Foundation.tanh($0) * Foundation.tanh($0)) * $0 }
        expectClose(x.grad!.scalars, expected, .float32, "diamond")
    }

    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let w = Tensor([2], shape: [1], requiresGrad: true)
        (w * 3).sum().backward()
        (w * 3).sum().backward()
        #expect(w.grad!.scalars == [6])
        w.zeroGrad()
        #expect(w.grad!.scalars == [0])
    }

    @Test func noGradScopeRecordsNothing() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = withoutGrad { () -> Tensor in
            #expect(!isRecordingGradients)
            return (w * 2).relu()
        }
        #expect(!y.requiresGrad)
        #expect(isRecordingGradients)
        #expect(y.scalars == [2, 4])
    }

    @Test func constantsGetNoGradient() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let c = Tensor([3, 4], shape: [2])
        (w * c).sum().backward()
        #expect(c.grad == nil)
        #expect(w.grad!.scalars == [3, 4])
    }

    @Test func leafHookFiresOnceWhenItsGradientIsComplete() {
        let a = Tensor([1, 2], shape: [2], requiresGrad: true)
        let b = Tensor([3], shape: [1], requiresGrad: true)
        var seen: [String] = []
        a.onGradReady = { t in seen.append("a=\(t.grad!.scalars)") }
        b.onGradReady = { t in seen.append("b=\(t.grad!.scalars)") }
        // a is used early and late in the graph; its hook must wait for both uses.
        let y = ((a * b).sum() + a.sum() * 2)
        y.backward()
        #expect(seen.count == 2)
        #expect(seen.contains("a=[5.0, 5.0]"))
        #expect(seen.contains("b=[3.0]"))
    }

    @Test func tapeIsReleasedAfterBackward() {
        let w = Tensor([1], shape: [1], requiresGrad: true)
        weak var inner: Tensor?
        do {
            let h = w * 2
            inner = h
            let loss = (h * h).sum()
            loss.backward()
        }
        #expect(inner == nil)
        #expect(w.grad!.scalars == [8])
    }

    /// Buffers an op reads in backward but does not list as parents (the dropout mask, the
    /// cross-entropy softmax) must live until backward, even if the caller dropped them.
    @Test func backwardOutlivesTemporaries() {
        let x = Tensor.randomNormal([64, 128], seed: 3, requiresGrad: true)
        var y: Tensor! = nil
        do {
            let mask = Tensor(ones: [64, 128])
            y = x.dropout(mask: mask, p: 0.5)
        }
        let loss = Tensor.crossEntropy(logits: y, labels: [Int](repeating: 1, count: 64))
        // Churn the allocator so freed buffers would be reused with other values.
        for _ in 0..<20 { _ = Tensor(repeating: .nan, shape: [64, 128]) }
        loss.backward()
        #expect(x.grad!.scalars.allSatisfy { $0.isFinite })
        #expect(abs(x.grad!.scalars.reduce(0, +)) < 1e-3)  // softmax - onehot rows sum to zero
    }

    @Test func viewSharesStorageWithItsOwner() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let rows = x[1..<3]
        x.data[2] = 9
        #expect(rows.scalars == [9, 4, 5, 6])
        #expect(x.reshaped(to: [2, 3]).storage === x.storage)
    }
}
