import Foundation
import Tensor
import TestSupport
import Testing

@Suite struct CreationTests {
    @Test func constantsAndArrays() {
        #expect(Tensor(zeros: [2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Tensor(ones: [4]).scalars == [1, 1, 1, 1])
        #expect(Tensor(repeating: 2.5, shape: [2]).scalars == [2.5, 2.5])
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(t.shape == [2, 3] && t.rank == 2 && t.count == 6)
        #expect(Tensor(scalar: 4).item == 4 && Tensor(scalar: 4).shape == [])
        #expect(t.transposed().scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func storageIsAligned() {
        #expect(Int(bitPattern: Tensor(zeros: [3]).data) % 64 == 0)
    }

    @Test func randomIsASeededPureFunction() {
        let a = Tensor.randomNormal([1000], seed: 42)
        let b = Tensor.randomNormal([1000], seed: 42)
        let c = Tensor.randomNormal([1000], seed: 43)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
        // A longer draw extends a shorter one: element i depends only on (seed, stream, i).
        #expect(
            Array(Tensor.randomUniform([1001], seed: 5).scalars.prefix(999))
                == Tensor.randomUniform([999], seed: 5).scalars)
        #expect(
            Tensor.randomUniform([8], seed: 5, stream: 1).scalars
                != Tensor.randomUniform([8], seed: 5, stream: 2).scalars)
    }

    @Test func randomMomentsMatchTheirDistributions() {
        let n = 100_000
        let g = Tensor.randomNormal([n], mean: 1, std: 2, seed: 9).scalars.map(Double.init)
        let mean = g.reduce(0, +) / Double(n)
        let std = (g.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        #expect(abs(mean - 1) < 0.03 && abs(std - 2) < 0.03)
        let u = Tensor.randomUniform([n], low: -3, high: 5, seed: 9).scalars
        #expect(u.allSatisfy { $0 >= -3 && $0 < 5 })
        #expect(abs(u.map(Double.init).reduce(0, +) / Double(n) - 1) < 0.05)
    }

    @Test func philoxMatchesTheKnownAnswer() {
        // Random123's known-answer test for philox4x32-10 with all-ones counter and key... uses
        // counter 0 and key 0: 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
        let r = Philox(seed: 0).block(0, 0, 0, 0)
        #expect([r.0, r.1, r.2, r.3] == [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
    }

    @Test func comparisonsAndArgmax() {
        let a = Tensor([1, 5, 3, 7, 2, 2], shape: [2, 3])
        #expect(a.argmax(alongAxis: 1) == [1, 0])
        #expect(a.argmax(alongAxis: 0) == [1, 0, 0])
        #expect(a.isGreater(than: Tensor(scalar: 2.5)).scalars == [0, 1, 1, 1, 0, 0])
        #expect(a.isEqual(to: Tensor([2, 5, 3], shape: [3])).scalars == [0, 1, 1, 0, 0, 0])
        #expect(a.isLess(than: Tensor(scalar: 3)).scalars == [1, 0, 0, 0, 1, 1])
    }

    @Test func reductionsGiveExactValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(a.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(a.sum(alongAxis: 1, keepingDim: true).shape == [2, 1])
        #expect(a.mean().item == 3.5)
        #expect(a.max(alongAxis: 1).scalars == [3, 6])
        #expect(a.max().item == 6)
        #expect(a.sum(alongAxes: [0, 1]).shape == [])
    }
}
