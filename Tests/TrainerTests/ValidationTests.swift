import Foundation
import Tandem
import TestSupport
import Testing

/// The validation split, keep_best by a validation figure, and early stopping (Keras semantics).
@Suite struct ValidationTests {
    /// A seeded share of each class, disjoint from training, the same for the same seed.
    @Test func validationSplitIsSeededAndStratified() throws {
        let d = try blobs(count: 200, seed: 1)
        let (train, held) = d.validationSplit(fraction: 0.1, seed: 7)
        #expect(Set(train).isDisjoint(with: held) && train.count + held.count == 200)
        #expect((0..<3).map { c in held.filter { $0 % 3 == c }.count } == [7, 7, 7])  // round(0.1 * 67 or 66)
        #expect(d.validationSplit(fraction: 0.1, seed: 7).validation == held)
        #expect(d.validationSplit(fraction: 0.1, seed: 8).validation != held)
        let sub = try d.subset(held, source: "v")
        let labels = sub.targets
        guard case .classes(let l, 3) = labels else {
            Issue.record("class labels expected")
            return
        }
        #expect(l.map(Int.init) == held.map { $0 % 3 })
    }

    /// `data.validation_split` on a config-loaded dataset: the training split shrinks by the share.
    @Test func configuredSplitHoldsOutTrainingSamples() throws {
        var cfg = config(steps: 1)
        cfg.data = DataConfig(.linearRegression(samples: 100, testSamples: 10))
        cfg.data.validationSplit = 0.2
        let data = try TrainingData.load(cfg)
        #expect(data.train.count == 80 && data.validation?.count == 20 && data.test.count == 10)
        #expect(try TrainingConfig.parse(cfg.configValue, file: "x") == cfg)
    }

    /// keep_best keeps the checkpoint with the lowest validation loss besides the newest.
    @Test func keepBestChoosesByValidationLoss() throws {
        let dir = tempDir()
        var cfg = config(steps: 42)
        cfg.checkpoint.keepLast = 1
        cfg.checkpoint.keepBest = true
        cfg.train.evalEverySteps = 6
        let run = try train(cfg, ranks: 1, runDir: dir, validation: try blobs(count: 60, seed: 5))
        let evaluations = run.events.filter { $0.split == "validation" }
        #expect(evaluations.count >= 7)
        #expect(run.events.filter { $0.split == "test" }.map(\.step) == [42])  // the test split once, at the end
        let best = try #require(evaluations.min { $0.loss < $1.loss })
        let left = Set(
            Checkpoint.candidates(in: dir + "/checkpoints").map { URL(fileURLWithPath: $0).lastPathComponent })
        #expect(left == [Checkpoint.folderName(step: best.step), Checkpoint.folderName(step: 42)])
    }

    /// Choosing by the test split is refused, as is accuracy for regression targets.
    @Test func monitorsNeedValidationData() throws {
        var cfg = config(steps: 5)
        cfg.checkpoint.keepBest = true
        #expect { _ = try train(cfg, ranks: 1) } throws: { "\($0)".contains("needs validation data") }
        cfg.checkpoint.keepBest = false
        cfg.train.earlyStopping = EarlyStopping()
        #expect { _ = try train(cfg, ranks: 1) } throws: { "\($0)".contains("train.early_stopping") }
    }

    func earlyStoppingConfig() -> TrainingConfig {
        var cfg = config(steps: 60)
        cfg.train.evalEverySteps = 3  // also at epoch ends: every 6 steps
        var es = EarlyStopping()
        // Nothing improves by 100: the first evaluation (step 3) stays the best, patience 3 ends at 12.
        es.minDelta = 100
        es.patience = 3
        es.restoreBest = true
        cfg.train.earlyStopping = es
        cfg.checkpoint.everySteps = 3
        return cfg
    }

    /// Every rank stops at the same step, the weights are those of the best evaluation, and
    /// a run stopped by a signal and resumed stops at the same step with the same bits.
    @Test func earlyStoppingStopsEveryRankAndResumesExactly() throws {
        let cfg = earlyStoppingConfig()
        let validation = try blobs(count: 60, seed: 5)
        let run = try train(cfg, ranks: 2, validation: validation)
        #expect(run.results.map(\.steps) == [12, 12] && run.results.allSatisfy(\.stoppedEarly))
        #expect(run.replicas[0] == run.replicas[1])
        var four = cfg
        four.train.earlyStopping = nil
        four.train.maxSteps = 3
        let atBest = try train(four, ranks: 2, validation: validation)
        #expect(run.weights == atBest.weights, "restore_best puts the weights of step 3 back")
        // Stopped after step 7 (the evaluation at 6 done), resumed: the same stop, the same bits.
        let dir = tempDir()
        _ = try train(cfg, ranks: 2, runDir: dir, stopAt: 7, validation: validation)
        let resumed = try train(cfg, ranks: 1, runDir: dir, resume: "auto", validation: validation)
        #expect(resumed.results.map(\.steps) == [12] && resumed.results[0].stoppedEarly)
        #expect(resumed.weights == run.weights)
        let last = try Checkpoint.manifest(in: dir + "/checkpoints/" + Checkpoint.folderName(step: 12))
        #expect(last.earlyStopping == MonitorState(best: try #require(last.earlyStopping?.best), step: 3, stale: 3))
        // Resuming the finished run trains no further.
        let again = try train(cfg, ranks: 1, runDir: dir, resume: "auto", validation: validation)
        #expect(again.results.map(\.steps) == [12] && again.weights == run.weights)
    }
}

/// Fast mode on any number of ranks: shares of a global batch differ by at most one sample.
@Suite(.serialized) struct AnyRankCountTests {
    /// Batch 31 on 3 ranks, resumed on 2, resumed on 4, finished: the run an uninterrupted
    /// single rank makes, within float rounding (sums are added in other orders).
    @Test func runResumesOnAnyRankCount() throws {
        var cfg = config(steps: 30)
        cfg.train.batchSize = 31
        let single = try train(cfg, ranks: 1)
        let dir = tempDir()
        _ = try train(cfg, ranks: 3, runDir: dir, stopAt: 8)
        _ = try train(cfg, ranks: 2, runDir: dir, resume: "auto", stopAt: 18)
        let end = try train(cfg, ranks: 4, runDir: dir, resume: "auto")
        #expect(end.results.allSatisfy { $0.steps == 30 })
        #expect(end.replicas.allSatisfy { $0 == end.replicas[0] })
        try expectSameShapes(end.weights, single.weights)
        let difference = zip(end.weights.joined(), single.weights.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5, "largest difference \(difference)")
        let losses = { (r: [MetricsRecord]) in r.filter { $0.split == "test" }.map(\.loss) }
        #expect(
            zip(losses(end.events), losses(single.events).suffix(losses(end.events).count)).allSatisfy {
                abs($0 - $1) < 1e-5
            })
    }
}

/// bfloat16 gradients on the wire (fast mode): training goes the same way, within bfloat16's
/// precision; exact mode refuses it.
@Suite struct CompressionTests {
    @Test func bf16GradientsTrainLikeFloat32() throws {
        var cfg = config(steps: 30)
        let plain = try train(cfg, ranks: 2)
        cfg.distributed.compression = .bf16
        let compressed = try train(cfg, ranks: 2)
        #expect(compressed.replicas[0] == compressed.replicas[1])
        #expect(compressed.weights != plain.weights)  // the rounding shows
        let difference = zip(compressed.weights.joined(), plain.weights.joined()).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 0.02, "largest weight difference \(difference)")
        let loss = { (r: [MetricsRecord]) in r.last { $0.split == "test" }?.loss ?? .nan }
        #expect(abs(loss(compressed.events) - loss(plain.events)) < 0.02)
        #expect(try TrainingConfig.parse(cfg.configValue, file: "x") == cfg)
        var exact = config(steps: 3, exact: true).configValue
        var dist = exact["distributed"] as? [String: Any] ?? [:]
        dist["compression"] = "bf16"
        exact["distributed"] = dist
        #expect { _ = try TrainingConfig.parse(exact, file: "x.yaml") } throws: {
            "\($0)".contains("distributed.compression: bf16 rounds gradients, which exact mode never does")
        }
    }
}

/// `distributed.bucket_mb: auto`: measured at start, the same choice on every rank.
@Suite struct BucketTuningTests {
    @Test func autoBucketSizeIsMeasuredAndAgreed() throws {
        var cfg = config(steps: 10)
        cfg.distributed.bucketAuto = true
        let run = try train(cfg, ranks: 2)
        #expect(run.replicas[0] == run.replicas[1] && run.results.allSatisfy { $0.steps == 10 })
        #expect(try TrainingConfig.parse(cfg.configValue, file: "x") == cfg)
        let choices = Shared<[Double]>([])
        try SimulatedWorld.run(size: 3, timeout: 60) { comm in
            let (choice, tried) = try GradientBuckets.measureBucketMB(gradientBytes: 6 << 20, communicator: comm)
            #expect(tried.map(\.mb) == [0.25, 1, 4, 16] && tried.contains { $0.mb == choice })
            choices.withLock { $0.append(choice) }
        }
        #expect(Set(choices.current).count == 1)
    }
}

/// `distributed.measure_stragglers`: the wait for the slowest rank, logged apart from the reduction.
@Suite struct StragglerTests {
    @Test func stragglerWaitIsLoggedInBothModes() throws {
        for exact in [false, true] {
            var cfg = config(steps: 6, exact: exact)
            cfg.distributed.measureStragglers = true
            cfg.train.logEverySteps = 2
            let run = try train(cfg, ranks: 2)
            let lines = run.events.filter { $0.split == "train" }
            #expect(lines.count == 3 && run.replicas[0] == run.replicas[1])
            #expect(lines.allSatisfy { ($0.stragglerWaitMs ?? -1) >= 0 && [0, 1].contains($0.slowestRank ?? -1) })
            #expect(lines.allSatisfy { ($0.commWaitMs ?? -1) >= 0 })
            #expect(try TrainingConfig.parse(cfg.configValue, file: "x") == cfg)
            cfg.distributed.measureStragglers = false
            let plain = try train(cfg, ranks: 2)
            #expect(plain.events.allSatisfy { $0.stragglerWaitMs == nil && $0.slowestRank == nil })
            #expect(plain.weights == run.weights)  // measuring changes no number of the run
        }
    }
}
