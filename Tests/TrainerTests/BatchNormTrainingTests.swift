import Foundation
import Tandem
import Testing

/// The blobs classifier with batch norm after its hidden layer.
func batchNormConfig(steps: Int, exact: Bool = false, sync: Bool = false) -> TrainingConfig {
    var c = config(steps: steps, exact: exact)
    c.model = [
        .linear(out: 16, bias: false), .batchNorm(momentum: 0.1, eps: 1e-5, sync: sync), .activation(.relu),
        .linear(out: 3, bias: true),
    ]
    c.data.dropLast = true
    return c
}

/// Batch norm under data parallelism: running statistics equal on every rank after every step,
/// exact mode bit-identical for every rank count (statistics included), SyncBatchNorm on 2 ranks
/// equal to one rank of the same global batch, resume bit-exact. Nested in TrainerTests, whose
/// serialization it shares (stop requests are process-wide).
extension TrainerTests {
    @Suite struct BatchNormTrainingTests {
        /// [running_mean, running_var, num_batches_tracked] of the batch norm layer (the state dict
        /// lists the five parameters first).
        func buffers(_ state: [[Float]]) -> [[Float]] { Array(state[5...7]) }

        @Test func replicasHoldTheSameStatistics() throws {
            let run = try train(batchNormConfig(steps: 12), ranks: 2, debug: true)
            #expect(run.replicas[0] == run.replicas[1])
            let stats = buffers(run.weights)
            #expect(stats[2] == [12])  // one training pass per step
            #expect(stats[0] != [Float](repeating: 0, count: 16) && stats[1] != [Float](repeating: 1, count: 16))
        }

        @Test func exactModeIsBitIdenticalWithRunningStatistics() throws {
            let runs = try [1, 2, 4].map { try train(batchNormConfig(steps: 15, exact: true), ranks: $0) }
            #expect(runs[0].weights.count == 8)
            #expect(runs[0].weights == runs[1].weights && runs[1].weights == runs[2].weights)
            #expect(runs[2].replicas.allSatisfy { $0 == runs[2].weights })
            #expect(buffers(runs[0].weights)[2] == [60])  // four virtual shards per step
        }

        @Test func syncBatchNormOnTwoRanksEqualsOneRank() throws {
            let one = try train(batchNormConfig(steps: 20, sync: true), ranks: 1)
            let two = try train(batchNormConfig(steps: 20, sync: true), ranks: 2)
            let plain = try train(batchNormConfig(steps: 20, sync: false), ranks: 2)
            try expectSameShapes(one.weights, two.weights)
            func worst(_ a: [[Float]], _ b: [[Float]]) -> Float {
                zip(a.joined(), b.joined()).map { abs($0 - $1) }.max() ?? .infinity
            }
            #expect(worst(one.weights, two.weights) < 2e-4, "sync on 2 ranks vs 1 rank")
            // Without sync each rank normalizes with its half-batch: a different run.
            #expect(worst(one.weights, plain.weights) > 1e-3, "plain batch norm on 2 ranks vs 1 rank")
            #expect(two.replicas[0] == two.replicas[1])
        }

        /// SyncBatchNorm's collectives go through the debug schedule check like every other one.
        @Test func syncBatchNormPassesTheScheduleCheck() throws {
            let data = TrainingData(train: try blobs(count: 200, seed: 1), test: try blobs(count: 90, seed: 2))
            let cfg = batchNormConfig(steps: 6, sync: true)
            try SimulatedWorld.run(size: 2, timeout: 60) { comm in
                let checked = CheckedCommunicator(comm)
                let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: cfg.seed)
                let t = try Trainer(
                    model: model, data: data, config: cfg, communicator: checked,
                    options: RunOptions(debug: true, quiet: true))
                try t.fit()
            }
        }

        @Test func resumeIsBitExactWithRunningStatistics() throws {
            let straight = try train(batchNormConfig(steps: 20), ranks: 2)
            let dir = tempDir()
            _ = try train(batchNormConfig(steps: 20), ranks: 2, runDir: dir, stopAt: 10)
            let resumed = try train(batchNormConfig(steps: 20), ranks: 2, runDir: dir, resume: "auto")
            #expect(!straight.weights.isEmpty && resumed.weights == straight.weights)
            for (k, (a, b)) in zip(straight.weights, resumed.weights).enumerated() where a != b {
                Issue.record("state \(k) differs: \(a.prefix(3)) vs \(b.prefix(3))")
            }
        }

        @Test func configMistakesAreNamed() throws {
            let data = TrainingData(train: try blobs(count: 200, seed: 1), test: try blobs(count: 90, seed: 2))
            var cfg = batchNormConfig(steps: 5, exact: true, sync: true)
            do {
                let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: 1)
                _ = try Trainer(model: model, data: data, config: cfg, communicator: LocalCommunicator())
                Issue.record("sync batch norm in exact mode was accepted")
            } catch let e as ConfigError {
                #expect("\(e)".contains("sync: true needs fast mode"))
            }
            cfg = batchNormConfig(steps: 5)
            #expect(throws: ConfigError.self) {
                try ModelBuilder.build(cfg.model, sampleShape: [8], seed: 1, smallestPass: 1)
            }
        }
    }
}
