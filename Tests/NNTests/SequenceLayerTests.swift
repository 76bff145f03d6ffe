import NN
import TestSupport
import Testing

/// Embedding, learned positions, multi-head attention and the pre-norm Transformer layer against
/// PyTorch (float64 fixtures) and finite differences.
@Suite struct SequenceLayerTests {
    @Test func embeddingAccumulatesRepeatedTokens() {
        checkModuleAgainstTorch("embedding_repeated") { xs, ids in
            let e = Embedding(vocabulary: 7, dim: 4)
            e.weight.assign(xs[0])
            let tokens = Tensor(ids.map(Float.init), shape: [2, 5])
            return (e(tokens), [e.weight])
        }
        let ids = Tensor([0, 2, 2, 1], shape: [2, 2])
        checkFiniteDifferences([[3, 4]]) { Tensor.embedding(ids, table: $0[0]) }
    }

    @Test func positionalAddsTheFirstRows() {
        checkModuleAgainstTorch("positional") { xs, _ in
            let p = Positional(length: 8, dim: 4)
            p.weight.assign(xs[1])
            return (p(xs[0]), [xs[0], p.weight])
        }
        #expect(throws: ShapeError.self) { try Positional(length: 4, dim: 2).outputShape(for: [1, 5, 2]) }
    }

    func attention(_ xs: [Tensor], causal: Bool) -> (out: Tensor, gradSources: [Tensor]) {
        let a = MultiheadAttention(dim: 8, heads: 2, causal: causal)
        a.inProjWeight.assign(xs[1])
        a.inProjBias.assign(xs[2])
        a.outProj.weight.assign(xs[3])
        a.outProj.bias?.assign(xs[4])
        return (a(xs[0]), [xs[0], a.inProjWeight, a.inProjBias, a.outProj.weight, a.outProj.bias ?? xs[4]])
    }

    @Test func attentionMatchesPyTorch() {
        checkModuleAgainstTorch("attention_full") { xs, _ in attention(xs, causal: false) }
        checkModuleAgainstTorch("attention_causal") { xs, _ in attention(xs, causal: true) }
    }

    @Test(arguments: [false, true])
    func attentionMatchesFiniteDifferences(causal: Bool) {
        checkFiniteDifferences([[2, 3, 12]]) { Tensor.selfAttention($0[0], heads: 2, causal: causal) }
        // With a fixed dropout mask the op is still a smooth function of its input.
        let mask = Tensor((0..<2 * 2 * 9).map { Float(($0 * 7) % 5 == 0 ? 0 : 1) }, shape: [2, 2, 3, 3])
        checkFiniteDifferences([[2, 3, 12]]) {
            Tensor.selfAttention($0[0], heads: 2, causal: causal, dropoutMask: mask, p: 0.25)
        }
    }

    /// Causal: position t sees positions up to t only, so changing the last input changes the last output only.
    @Test func causalAttentionIgnoresTheFuture() {
        let a = MultiheadAttention(dim: 4, heads: 2, causal: true, key: InitKey(seed: 3))
        let x = Tensor.randomNormal([1, 5, 4], seed: 4)
        let y = a(x).scalars
        x.data[19] += 1
        let z = a(x).scalars
        #expect(Array(y[0..<16]) == Array(z[0..<16]) && y[16..<20] != z[16..<20])
    }

    @Test func transformerLayerMatchesPyTorchWithItsNames() throws {
        let names = try #require(Fixtures.named("transformer_layer_causal").attrs?.names)
        checkModuleAgainstTorch("transformer_layer_causal") { xs, _ in
            let layer = TransformerEncoderLayer(dim: 8, heads: 2, feedForward: 16, dropout: 0, causal: true)
            let own = Dictionary(uniqueKeysWithValues: layer.namedParameters.map { ($0.name, $0.tensor) })
            var sources = [xs[0]]
            for (name, value) in zip(names, xs.dropFirst()) {
                guard let p = own[name] else {
                    Issue.record("no parameter \(name)")
                    continue
                }
                p.assign(value)
                sources.append(p)
            }
            #expect(Set(own.keys) == Set(names))
            return (layer(xs[0]), sources)
        }
    }

    @Test func sequenceCrossEntropyIsTheMeanOverTokens() {
        checkModuleAgainstTorch("sequence_cross_entropy") { xs, targets in
            let logits = xs[0].reshaped(to: [10, 7])
            return (Tensor.crossEntropy(logits: logits, labels: targets), [xs[0]])
        }
    }
}
