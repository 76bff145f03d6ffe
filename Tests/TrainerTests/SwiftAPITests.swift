import Foundation
import Tandem
import TestSupport
import Testing

/// The Swift API for custom loops, against the public API only (nothing @testable here):
/// gradients as values, DataParallel, losses as closures, datasets of one's own type and the
/// Trainer without a TrainingConfig. The consumer package (launch/consumer-test) runs the same
/// pieces from outside the package under mpirun.
@Suite struct SwiftAPITests {
    static func mlp(seed: UInt64 = 5) -> Sequential {
        Sequential(
            Linear(inFeatures: 8, outFeatures: 12, key: InitKey(seed: seed, layer: 0)), Tanh(),
            Linear(inFeatures: 12, outFeatures: 3, key: InitKey(seed: seed, layer: 2)))
    }

    /// Weights after `steps` steps of a DataParallel loop with SGD on `ranks` simulated ranks;
    /// `tamper` runs between steps on every rank.
    static func loop(
        ranks: Int, reduction: DataParallel.Reduction, steps: Int = 6, tamper: (@Sendable (Module) -> Void)? = nil
    ) throws -> [[Float]] {
        let data = try blobs(count: 96, seed: 2)
        let result = Shared<[[Float]]>([])
        try SimulatedWorld.run(size: ranks, timeout: 60) { comm in
            let model = mlp()
            let sgd = SGD(model.namedParameters, learningRate: 0.1)
            let parallel = try DataParallel(model: model, communicator: comm, reduction: reduction)
            let builder = BatchBuilder(dataset: data, preprocessing: Preprocessing(), seed: 2)
            for step in 0..<steps {
                let ids = Array((step * 16)..<(step * 16 + 16))
                let g = try parallel.gradients(globalBatch: ids.count) { pass in
                    let batch = builder.make(ids: Array(ids[pass.rows]), epoch: 0, augment: false)
                    return Tensor.crossEntropy(logits: model(batch.x), labels: batch.labels, reduction: .sum)
                }
                #expect(g.isFinite && g.names == model.namedParameters.map(\.name))
                sgd.update(g)
                tamper?(model)
            }
            if comm.rank == 0 { result.withLock { $0 = model.parameters.map(\.scalars) } }
        }
        return result.withLock { $0 }
    }

    @Test func valueAndGradientsIsTheGradientAndLeavesGradAlone() throws {
        let model = Self.mlp()
        let x = Tensor.randomNormal([4, 8], seed: 1, purpose: .data)
        let marker = Tensor(repeating: 7, shape: model.parameters[0].shape)
        model.parameters[0].grad = marker
        let (value, g) = valueAndGradients(of: model) { model(x).tanh().sum() }
        #expect(model.parameters[0].grad === marker && marker.scalars.allSatisfy { $0 == 7 })
        model.parameters[0].grad = nil
        let loss = model(x).tanh().sum()
        loss.backward()
        #expect(value == loss.item)
        for (p, (name, grad)) in zip(model.namedParameters, g.named) {
            #expect(p.name == name && p.tensor.grad?.scalars == grad.scalars, "\(name)")
        }
    }

    @Test func dataParallelFastOnTwoRanksMatchesOneRank() throws {
        let one = try Self.loop(ranks: 1, reduction: .fast(bucketMB: 0.0001))
        let two = try Self.loop(ranks: 2, reduction: .fast(bucketMB: 0.0001))
        let worst = zip(one.joined(), two.joined()).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "\(worst)")
    }

    @Test func dataParallelExactIsBitIdenticalOnOneTwoAndFourRanks() throws {
        let one = try Self.loop(ranks: 1, reduction: .exact(virtualShards: 4))
        #expect(try Self.loop(ranks: 2, reduction: .exact(virtualShards: 4)) == one)
        #expect(try Self.loop(ranks: 4, reduction: .exact(virtualShards: 4)) == one)
    }

    /// Assigning a parameter's `grad` or hook between steps does not take it out of the reduction.
    @Test func aParameterUnpluggedByTheUserIsPluggedBackIn() throws {
        let plain = try Self.loop(ranks: 2, reduction: .fast(bucketMB: 0.0001))
        let tampered = try Self.loop(ranks: 2, reduction: .fast(bucketMB: 0.0001)) { model in
            model.parameters[1].grad = nil
            model.parameters[2].onGradReady = nil
        }
        #expect(tampered == plain)
    }

    /// Batch norm's running statistics stay equal on every rank of a custom loop, and in exact
    /// mode they are the same bits on 1, 2 and 4 ranks (pooled per virtual shard).
    @Test func batchNormStatisticsAgreeAcrossRanks() throws {
        let data = try blobs(count: 96, seed: 2)
        func run(ranks: Int, reduction: DataParallel.Reduction) throws -> [[[Float]]] {
            let buffers = Shared([[[Float]]](repeating: [], count: ranks))
            try SimulatedWorld.run(size: ranks, timeout: 60) { comm in
                let model = Sequential(
                    Linear(inFeatures: 8, outFeatures: 12, key: InitKey(seed: 5, layer: 0)), BatchNorm(channels: 12),
                    ReLU(), Linear(inFeatures: 12, outFeatures: 3, key: InitKey(seed: 5, layer: 3)))
                let sgd = SGD(model.namedParameters, learningRate: 0.1)
                let parallel = try DataParallel(model: model, communicator: comm, reduction: reduction)
                let builder = BatchBuilder(dataset: data, preprocessing: Preprocessing(), seed: 2)
                for step in 0..<4 {
                    let ids = Array((step * 16)..<(step * 16 + 16))
                    sgd.update(
                        try parallel.gradients(globalBatch: ids.count) { pass in
                            let batch = builder.make(ids: Array(ids[pass.rows]), epoch: 0, augment: false)
                            return Tensor.crossEntropy(logits: model(batch.x), labels: batch.labels, reduction: .sum)
                        })
                }
                parallel.detach()
                buffers.withLock { $0[comm.rank] = model.namedBuffers.map(\.tensor.scalars) }
            }
            return buffers.withLock { $0 }
        }
        let exact = try [1, 2, 4].map { try run(ranks: $0, reduction: .exact(virtualShards: 4)) }
        #expect(exact[0][0][0] != [Float](repeating: 0, count: 12), "the running mean moved")
        for replicas in exact { #expect(replicas.allSatisfy { $0 == exact[0][0] }) }
        let fast = try run(ranks: 2, reduction: .fast())
        #expect(fast[1] == fast[0])
    }

    @Test func exactModeRefusesAShardCountTheRanksCannotShare() throws {
        #expect(
            performing: {
                try SimulatedWorld.run(size: 2, timeout: 10) { comm in
                    _ = try DataParallel(model: Self.mlp(), communicator: comm, reduction: .exact(virtualShards: 3))
                }
            }, throws: { "\($0)".contains("must be a power of two") })
    }

    /// A closure computing cross-entropy trains exactly as the built-in loss, through the
    /// Trainer built without a TrainingConfig.
    @Test func aLossClosureTrainsAsTheBuiltInLoss() throws {
        func run(_ loss: Loss) throws -> [[Float]] {
            let model = Self.mlp()
            var train = TrainConfig(epochs: 2, batchSize: 16)
            train.logEverySteps = 100
            let data = try blobs(count: 96, seed: 2)
            let trainer = try Trainer(
                model: model, data: TrainingData(train: data, test: data), loss: loss,
                optimizer: Adam(model.namedParameters, learningRate: 0.01), train: train,
                determinism: .exact(virtualShards: 2), communicator: LocalCommunicator(),
                options: RunOptions(quiet: true))
            #expect(try trainer.fit().steps == 12)
            return model.parameters.map(\.scalars)
        }
        let closure = Loss(name: "my_cross_entropy") { out, batch in
            Tensor.crossEntropy(logits: out, labels: batch.labels, reduction: .sum)
        }
        #expect(try run(closure) == run(.crossEntropy))
    }

    struct Rows: SampleSource {
        let values: [Float]
        let labels: [Int32]
        var count: Int { labels.count }
        var sampleShape: [Int] { [8] }
        var targets: Dataset.Targets { .classes(labels, classes: 3) }
        func loadSample(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
            for j in 0..<8 { destination[j] = values[index * 8 + j] }
        }
    }

    /// A dataset of one's own type gives the batches, subsets and prefixes the same values do.
    @Test func aSampleSourceDatasetEqualsTheSameValuesInMemory() throws {
        let arrays = try blobs(count: 30, seed: 4)
        guard case .floats(let values) = arrays.features, case .classes(let labels, _) = arrays.targets else {
            Issue.record("blobs changed form")
            return
        }
        let mine = try Dataset(source: Rows(values: values, labels: labels), name: "rows")
        let norm = Preprocessing(mean: 0.5, std: 2)
        for (a, b) in [(arrays, mine), (try arrays.prefix(10), try mine.prefix(10))] {
            let ids = [3, 0, 7, 7, 9]
            let x = BatchBuilder(dataset: a, preprocessing: norm, seed: 1).make(ids: ids, epoch: 0, augment: false)
            let y = BatchBuilder(dataset: b, preprocessing: norm, seed: 1).make(ids: ids, epoch: 0, augment: false)
            #expect(x.x.scalars == y.x.scalars && x.labels == y.labels)
        }
        let sub = try mine.subset([5, 2], source: "sub")
        let z = BatchBuilder(dataset: sub, preprocessing: Preprocessing(), seed: 1).make(
            ids: [1], epoch: 0, augment: false)
        #expect(z.x.scalars == Array(values[16..<24]) && z.labels == [Int(labels[2])])
        #expect(mine.featureMoments().mean == arrays.featureMoments().mean)
    }
}
