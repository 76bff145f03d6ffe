import Foundation
import Tandem
import TestSupport
import Testing

/// A small classification problem held in memory: 8 features, 3 classes.
func blobs(count: Int, seed: UInt64, poison: Int? = nil) throws -> Dataset {
    var x = Tensor.randomNormal([count, 8], seed: seed, purpose: .data).scalars
    if let poison { x[poison * 8] = .nan }
    var features = [Float]()
    var labels = [Int32]()
    for i in 0..<count {
        let c = i % 3
        for j in 0..<8 { features.append(x[i * 8 + j] + (j % 3 == c ? 1.5 : 0)) }
        labels.append(Int32(c))
    }
    return try Dataset(
        features: .floats(features), targets: .classes(labels, classes: 3), sampleShape: [8], source: "blobs")
}

func config(steps: Int, exact: Bool = false, optimizer: OptimizerSpec.Algorithm = .adam()) -> TrainingConfig {
    let data = DataConfig(.csv(.init(path: "blobs.csv", target: "label")))
    var c = TrainingConfig(
        name: "test", seed: 3, data: data,
        model: [.linear(out: 16, bias: true), .activation(.tanh), .dropout(p: 0.1), .linear(out: 3, bias: true)],
        loss: .crossEntropy, optimizer: OptimizerSpec(optimizer, lr: 0.01),
        train: TrainConfig(epochs: 100, batchSize: 32))
    c.train.maxSteps = steps
    c.train.logEverySteps = 5
    c.checkpoint.everySteps = 1000
    c.data.prefetch = false
    if exact { c.determinism = .exact(virtualShards: 4) }
    return c
}

/// Trains on `ranks` simulated ranks; returns rank 0's final weights and buffers (state dict),
/// its metric events and every rank's state dict.
func train(
    _ cfg: TrainingConfig, ranks: Int, runDir: String? = nil, resume: String? = nil,
    stopAt: Int? = nil, poison: Int? = nil, debug: Bool = false, validation: Dataset? = nil,
    optimizer: (@Sendable (NamedTensors) -> Optimizer)? = nil
) throws -> (weights: [[Float]], events: [MetricsRecord], replicas: [[[Float]]], results: [FitResult]) {
    let data = TrainingData(
        train: try blobs(count: 200, seed: 1, poison: poison), test: try blobs(count: 90, seed: 2),
        validation: validation)
    let events = Shared<[MetricsRecord]>([])
    let results = Shared<[FitResult]>([])
    let replicas = Shared([[[Float]]](repeating: [], count: ranks))
    try SimulatedWorld.run(size: ranks, timeout: 60) { comm in
        let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: cfg.seed)
        // Every rank gets the run directory, as under mpirun; only rank 0 writes to it.
        let options = RunOptions(runDirectory: runDir, resume: resume, debug: debug, quiet: true)
        let t = try Trainer(
            model: model, data: data, config: cfg, communicator: comm, options: options,
            optimizer: optimizer?(model.namedParameters))
        if comm.rank == 0 {
            t.onEvent = { e in
                switch e {
                case .train(let r), .test(let r), .validation(let r):
                    events.withLock { $0.append(r) }
                    if let stopAt, r.step == stopAt, r.split == "train" { StopSignal.request() }
                default: break
                }
            }
        }
        let result = try t.fit()
        results.withLock { $0.append(result) }
        let mine = model.stateDict.map(\.tensor.scalars)
        replicas.withLock { $0[comm.rank] = mine }
    }
    let all = replicas.current
    StopSignal.reset()
    return (all[0], events.current, all, results.current)
}

/// Two runs' weights: the same number of tensors of the same sizes, and not none.
func expectSameShapes(_ a: [[Float]], _ b: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) throws {
    try #require(
        !a.isEmpty && a.count == b.count, "\(a.count) vs \(b.count) weight tensors", sourceLocation: sourceLocation)
    #expect(a.map(\.count) == b.map(\.count), sourceLocation: sourceLocation)
}

func tempDir() -> String {
    let p = NSTemporaryDirectory() + "tandem-trainer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

@Suite(.serialized) struct TrainerTests {
    @Test func twoRanksMatchOneRankWithinFloat32Tolerance() throws {
        let one = try train(config(steps: 30), ranks: 1)
        let two = try train(config(steps: 30), ranks: 2)
        try expectSameShapes(one.weights, two.weights)
        for (a, b) in zip(one.weights, two.weights) {
            let worst = try #require(zip(a, b).map { abs($0 - $1) }.max())
            #expect(worst < 1e-4, "largest weight difference \(worst)")
        }
        // Metrics (global sums) agree too: six train lines (every 5 steps) and the evaluations.
        #expect(one.events.filter { $0.split == "train" }.count == 6 && two.events.count == one.events.count)
        for (a, b) in zip(one.events, two.events) {
            #expect(
                a.step == b.step && abs(a.loss - b.loss) < 1e-4 && a.accuracy == b.accuracy,
                "\(a.jsonLine) vs \(b.jsonLine)")
        }
    }

    @Test func exactModeIsBitIdenticalForOneTwoAndFourRanks() throws {
        let runs = try [1, 2, 4].map { try train(config(steps: 25, exact: true), ranks: $0) }
        #expect(runs[0].weights.count == 4 && !runs[0].events.isEmpty)
        #expect(runs[0].weights == runs[1].weights)
        #expect(runs[1].weights == runs[2].weights)
        #expect(runs[0].events.map(\.loss) == runs[2].events.map(\.loss))
    }

    @Test func stopAndResumeIsBitIdentical() throws {
        let straight = try train(config(steps: 30), ranks: 2)
        let dir = tempDir()
        // The stop is requested at step 15; ranks agree on it at the next step boundary.
        let first = try train(config(steps: 30), ranks: 2, runDir: dir, stopAt: 15)
        #expect(try #require(first.events.last).step == 15)
        #expect(try #require(Checkpoint.candidates(in: dir + "/checkpoints").first).hasSuffix("step-00000016"))
        let resumed = try train(config(steps: 30), ranks: 2, runDir: dir, resume: "auto")
        #expect(!straight.weights.isEmpty && resumed.weights == straight.weights)
        let log = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == straight.events.count)  // no duplicated lines after resume
    }

    @Test func exactResumeWithAnotherWorldSizeIsBitIdentical() throws {
        let straight = try train(config(steps: 20, exact: true), ranks: 4)
        let dir = tempDir()
        _ = try train(config(steps: 20, exact: true), ranks: 4, runDir: dir, stopAt: 10)
        let resumed = try train(config(steps: 20, exact: true), ranks: 2, runDir: dir, resume: "auto")
        #expect(!straight.weights.isEmpty && resumed.weights == straight.weights)
    }

    @Test func resumeSkipsDamagedCheckpointsAndDetectsFlippedBytes() throws {
        let dir = tempDir()
        var cfg = config(steps: 20)
        cfg.checkpoint.everySteps = 5
        cfg.checkpoint.keepLast = 10
        _ = try train(cfg, ranks: 1, runDir: dir)
        let ckpts = Checkpoint.candidates(in: dir + "/checkpoints")
        #expect(ckpts.count >= 4)
        // Flip one byte of the newest model file: its checksum fails.
        let newest = ckpts[0]
        let model = newest + "/model.safetensors"
        var bytes = [UInt8](FileManager.default.contents(atPath: model)!)
        bytes[bytes.count / 2] ^= 0x40
        _ = FileManager.default.createFile(atPath: model, contents: Data(bytes))
        #expect { try Checkpoint.read(newest) } throws: { "\($0)".contains("checksum mismatch") }
        // A half-written folder (no trainer.json) is not a checkpoint either.
        try FileManager.default.removeItem(atPath: ckpts[1] + "/trainer.json")
        var warnings: [String] = []
        let chosen = Checkpoint.newestValid(in: dir + "/checkpoints") { warnings.append($0) }
        #expect(chosen == ckpts[2])
        #expect(warnings.count == 2)
    }

    @Test func nonFiniteLossAbortsNamingStepAndRank() throws {
        var cfg = config(steps: 10)
        // Sample 7 holds a NaN: the step that draws it has a non-finite loss on the rank that has it.
        #expect { _ = try train(cfg, ranks: 2, poison: 7) } throws: { e in
            let m = "\(e)"
            return m.contains("non-finite loss or gradient at step") && m.contains(" on rank ")
        }
        cfg.train.onNonfinite = .skip
        let r = try train(cfg, ranks: 2, poison: 7)
        #expect(r.events.contains { $0.split == "test" })  // ran to the end, skipping bad steps
    }

    /// Two batches of 16 accumulated equal one batch of 32 of the same samples (no dropout).
    @Test func gradientAccumulationEqualsTheLargerBatch() throws {
        var big = config(steps: 12)
        var small = config(steps: 12)
        big.model = [.linear(out: 16, bias: true), .activation(.tanh), .linear(out: 3, bias: true)]
        small.model = big.model
        small.train.batchSize = 16
        small.train.gradAccumulation = 2
        let a = try train(big, ranks: 2)
        let b = try train(small, ranks: 2)
        try expectSameShapes(a.weights, b.weights)
        for (x, y) in zip(a.weights, b.weights) {
            #expect(try #require(zip(x, y).map { abs($0 - $1) }.max()) < 1e-4)
        }
    }

    @Test func normalizeAutoRoundTripsAndComputesFromTheTrainingSplit() throws {
        let dir = tempDir()
        // Training features 1...4 (mean 2.5, std sqrt(1.25)); the test split is far away on purpose.
        try "x,y\n1,0\n2,1\n3,0\n4,1\n".write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try "x,y\n100,0\n300,1\n".write(toFile: dir + "/test.csv", atomically: true, encoding: .utf8)
        var cfg = config(steps: 1)
        var csv = DatasetSpec.CSVSource(path: dir + "/train.csv", target: "y")
        csv.testPath = dir + "/test.csv"
        cfg.data = DataConfig(.csv(csv))
        cfg.data.normalization = .auto
        #expect(try TrainingConfig.parse(cfg.configValue, file: "x") == cfg)
        let data = try TrainingData.load(cfg)
        #expect(data.train.count == 4 && data.test.count == 2)
        #expect(abs(data.preprocessing.mean - 2.5) < 1e-6)
        #expect(abs(data.preprocessing.std - Float(1.25).squareRoot()) < 1e-6)
    }

    @Test func configRoundTripsThroughItsSavedForm() throws {
        var cfg = config(steps: 7)
        cfg.optimizer.schedule = .cosine(warmup: 3, minLR: 0.001)
        cfg.optimizer.clipGradNorm = 2.5
        cfg.data.horizontalFlip = true
        cfg.data.limit = 100
        let again = try TrainingConfig.parse(cfg.configValue, file: "x")
        #expect(again == cfg)
        // Every algorithm, schedule, dataset and determinism mode survives its saved form.
        let algorithms: [OptimizerSpec.Algorithm] = [
            .sgd(momentum: 0.9, dampening: 0, nesterov: true), .adam(beta1: 0.8, beta2: 0.99, eps: 1e-6),
            .adamw(), .rmsprop(alpha: 0.9, eps: 1e-7, momentum: 0.5),
        ]
        let schedules: [ScheduleSpec] = [.constant, .step(every: 10, gamma: 0.5), .cosine(warmup: 0, minLR: 0)]
        let sources: [DatasetSpec] = [
            .fashionMNIST(), .mnist(path: "/data/mnist"), .linearRegression(samples: 10, testSamples: 5),
            .sine(samples: 8, testSamples: 4, steps: 3),
        ]
        for (i, algorithm) in algorithms.enumerated() {
            var c = config(steps: 3, exact: i % 2 == 0, optimizer: algorithm)
            c.optimizer.schedule = schedules[i % schedules.count]
            c.optimizer.weightDecay = i == 1 ? 0.25 : nil
            c.data = DataConfig(sources[i])
            c.data.normalization = i == 2 ? .fixed(mean: 0.286, std: 0.353) : .none
            c.train.onNonfinite = i == 3 ? .skip : .abort
            #expect(try TrainingConfig.parse(c.configValue, file: "x") == c, "\(c.configValue)")
        }
    }
}

/// What training leaves on the user's model: frozen parameters untouched, no hooks behind.
@Suite(.serialized) struct ModelLifetimeTests {
    /// A frozen first layer stays bit-for-bit as it was under AdamW's decoupled weight decay, on
    /// two ranks; it has no optimizer state and no room in the gradient buckets.
    @Test func frozenParametersStayExactlyAsTheyWere() throws {
        var decaying = config(steps: 10, optimizer: .adamw())
        decaying.optimizer.weightDecay = 0.5
        let cfg = decaying
        let data = TrainingData(train: try blobs(count: 200, seed: 1), test: try blobs(count: 90, seed: 2))
        let shared = Shared<
            [(frozenBefore: [[Float]], frozenAfter: [[Float]], trainedMoved: Bool, state: [String], stateSize: Int)]
        >([])
        try SimulatedWorld.run(size: 2, timeout: 60) { comm in
            let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: cfg.seed)
            let named = model.namedParameters
            let frozen = named.filter { $0.name.hasPrefix("0.") }.map(\.tensor)
            for p in frozen { p.requiresGrad = false }
            let before = frozen.map(\.scalars)
            let trainedBefore = named.last!.tensor.scalars
            let t = try Trainer(
                model: model, data: data, config: cfg, communicator: comm,
                options: RunOptions(quiet: true))
            try t.fit()
            let state = t.optimizer.stateDict().tensors.map(\.name)
            let moved = named.last!.tensor.scalars != trainedBefore
            shared.withLock {
                $0.append((before, frozen.map(\.scalars), moved, state, t.optimizer.parameters.count))
            }
        }
        let results = shared.current
        #expect(results.count == 2)
        for r in results {
            #expect(r.frozenBefore.count == 2 && r.frozenBefore == r.frozenAfter)
            #expect(r.trainedMoved)
            #expect(!r.state.isEmpty && !r.state.contains { $0.hasPrefix("0.") }, "\(r.state)")
            #expect(r.stateSize == 2)  // the last linear's weight and bias
        }
    }

    /// After `fit()` the parameters carry no backward hooks; a backward through the model after
    /// the trainer is gone works (it trapped on an unowned reference).
    @Test func trainingLeavesNoHooksBehind() throws {
        let cfg = config(steps: 3)
        let data = TrainingData(train: try blobs(count: 200, seed: 1), test: try blobs(count: 90, seed: 2))
        let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: cfg.seed)
        do {
            let t = try Trainer(
                model: model, data: data, config: cfg, communicator: LocalCommunicator(),
                options: RunOptions(quiet: true))
            try t.fit()
            #expect(model.parameters.allSatisfy { $0.onGradReady == nil })
        }
        let x = Tensor.randomNormal([4, 8], seed: 5)
        model(x).sum().backward()
        #expect(model.parameters.allSatisfy { $0.grad != nil })
    }
}
