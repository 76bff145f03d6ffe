import Data
import Distributed
import Foundation
import Glibc
import Logging
import NN
import Optim

/// How a run is driven beyond its config: where it writes, whether it resumes, debug checks.
public struct RunOptions: Sendable {
    /// Folder for metrics.jsonl, checkpoints/ and config.json; nil writes nothing (library use).
    public var runDirectory: String?
    /// The run directory's layout, when there is one.
    public var runFolder: RunFolder? { runDirectory.map(RunFolder.init) }
    /// "auto" (newest valid checkpoint in the run folder, if any) or a checkpoint folder.
    public var resume: String?
    /// Initial weights (safetensors, PyTorch names) loaded before training.
    public var initFrom: String?
    /// Extra checks: parameter hashes across ranks, the op that produced a non-finite value.
    public var debug = false
    /// No console output (tests, embedding apps).
    public var quiet = false
    /// The command that started the run, for the "how to resume" message.
    public var command: String?
    /// The config's file name, for config errors found when the run is set up.
    public var configFile = "config"
    /// Where the trainer's warnings and notices go (resume, skipped steps, stops, disk trouble),
    /// with the rank and step as metadata; the progress lines stay plain console output. Only the
    /// `tandem` executable bootstraps the logging system: a library user's own handler applies.
    public var logger = Logger(label: "tandem")

    /// Options for a run writing to `runDirectory` (nil: nothing written).
    public init(
        runDirectory: String? = nil, resume: String? = nil, initFrom: String? = nil, debug: Bool = false,
        quiet: Bool = false
    ) {
        self.runDirectory = runDirectory
        self.resume = resume
        self.initFrom = initFrom
        self.debug = debug
        self.quiet = quiet
    }
}

/// A training run that cannot go on: one line for the user.
public struct TrainerError: Error, CustomStringConvertible {
    /// The line for the user.
    public let message: String
    /// An error with its one-line message.
    public init(_ message: String) { self.message = message }
    /// The message as one line.
    public var description: String { message }
}

/// What `fit()` ends with.
public struct FitResult {
    /// Optimizer steps taken in all.
    public var steps: Int
    /// The last test result.
    public var test: MetricSums?
    /// The last validation result (runs with validation data).
    public var validation: MetricSums? = nil
    /// SIGTERM, SIGINT or SIGUSR1 ended the run (after a checkpoint).
    public var stoppedBySignal: Bool
    /// Early stopping ended the run before its last step.
    public var stoppedEarly = false
    /// The newest checkpoint folder (rank 0).
    public var lastCheckpoint: String?
}

/// Data-parallel training of one model replica per rank, Keras-style: build, `fit()`,
/// `evaluate()`, `predict(_:)`. Every rank runs the same code; rank 0 also writes the metrics
/// log and the checkpoints. The step itself is in Trainer+Step.swift, evaluation in
/// Trainer+Evaluate.swift, checkpoints and resume in Trainer+State.swift.
public final class Trainer {
    /// The run's settings.
    public let config: TrainingConfig
    /// The replica this rank trains.
    public let model: Module
    /// The splits and preprocessing.
    public let data: TrainingData
    /// The optimizer over the model's trainable parameters.
    public let optimizer: Optimizer
    /// The objective: the config's `loss`, or a closure given from Swift.
    public let loss: Loss
    /// The ranks of the run.
    public let communicator: Communicator
    /// Run folder, resume and debug settings.
    public let options: RunOptions
    /// Observers of metrics, checkpoints and stops: called on the training thread, except
    /// `.checkpoint`, which comes from the checkpoint writer's thread (hence `@Sendable`).
    public var onEvent: (@Sendable (TrainerEvent) -> Void)?

    /// Optimizer steps taken.
    public internal(set) var step = 0
    /// Where the data stream is.
    public internal(set) var cursor = Cursor()
    /// Training sums since the last log line, and the last test result (with its step).
    var pending = MetricSums()
    var lastTest: (sums: MetricSums, step: Int)?
    var lastValidation: MetricSums?
    /// Early stopping's best value and patience count; the best weights (restore_best only, all
    /// ranks); whether it has ended training.
    var earlyStop: MonitorState?
    var bestWeights: [Tensor]?
    var stoppedEarly = false
    /// Whether this run continued from a checkpoint.
    var resumed = false
    /// `options.logger` with this rank and the current step as metadata.
    var log: Logger {
        var logger = options.logger
        logger[metadataKey: "rank"] = "\(communicator.rank)"
        logger[metadataKey: "step"] = "\(step)"
        return logger
    }

    /// Seconds from this process's start to the end of its first training step (start-up cost).
    var firstStepSeconds: Double?

    /// Sampler, epoch orders and batches.
    let stream: DataStream
    /// The learning rate of every step, built once from the config.
    let schedule: LRSchedule
    /// Set up by `fit()`: how gradients are reduced; rank 0's checkpoints and metrics log.
    var parallel: DataParallel?
    /// Batch norm running statistics kept equal across ranks (nil: the model has none); the
    /// slot and sample count of each training pass of the current step.
    var runningStatistics: RunningStatistics?
    var forwardSlots: [(slot: Int, samples: Int)] = []
    /// SyncBatchNorm's communication (nil: no synchronized layer, or one rank).
    var syncBatchNorm: SyncBatchNorm?
    let keeper: CheckpointKeeper?
    var metricsLog: MetricsLog?
    var progress = Progress(totalSteps: 0, quiet: true)
    let startTime = ProcessInfo.processInfo.systemUptime
    var rank0: Bool { communicator.rank == 0 }

    /// Builds the model, optimizer and data the config describes.
    public convenience init(config: TrainingConfig, communicator: Communicator, options: RunOptions = RunOptions())
        throws
    {
        let data = try TrainingData.load(config)
        let share = (config.train.batchSize + communicator.size - 1) / communicator.size
        // The fewest samples a full batch's training pass has on one rank (batch norm needs 2 values).
        let passes = config.determinism.isExact ? config.determinism.virtualShards : communicator.size
        let model = try ModelBuilder.build(
            config.model, sampleShape: data.train.sampleShape, seed: config.seed,
            file: options.configFile, batchSize: share, smallestPass: config.train.batchSize / passes,
            vocabulary: data.vocabulary?.count, context: config.data.source.context)
        try self.init(model: model, data: data, config: config, communicator: communicator, options: options)
    }

    /// Trains any `Module` (a custom Swift model) with the config's schedule, the config's loss
    /// or `loss`, and the config's optimizer or `optimizer` (your own `Optimizer` subclass, made
    /// over this model's `namedParameters`; the config's learning rate and schedule still set its
    /// rate each step); `config.model` is not used.
    public init(
        model: Module, data: TrainingData, config: TrainingConfig, communicator: Communicator,
        options: RunOptions = RunOptions(), optimizer given: Optimizer? = nil, loss: Loss? = nil
    ) throws {
        // The saved config says what the run used: a closure's loss is recorded as `swift`.
        var config = config
        if let loss { config.loss = loss.spec }
        if let given, given.name != config.optimizer.name { config.optimizer.algorithm = .swift(name: given.name) }
        self.config = config
        self.model = model
        self.data = data
        self.communicator = communicator
        self.options = options
        self.loss = loss ?? (config.loss ?? .crossEntropy).loss
        guard let optimizer = given ?? config.optimizer.make(model.namedParameters) else {
            throw TrainerError(
                "tandem: the config's optimizer (\(config.optimizer.name)) was given from Swift: pass it")
        }
        self.optimizer = optimizer
        try Trainer.check(optimizer, of: model)
        let sampler = try Trainer.sampler(config, data: data, ranks: communicator.size, options: options)
        stream = DataStream(sampler: sampler, data: data, seed: config.seed)
        try Trainer.checkSyncBatchNorm(model, config, sampler: sampler, ranks: communicator.size, options: options)
        keeper =
            communicator.rank == 0
            ? options.runFolder.map { CheckpointKeeper(directory: $0.checkpoints, config: config.checkpoint) } : nil
        schedule = config.optimizer.schedule.make(
            totalSteps: Trainer.totalSteps(config.train, batchesPerEpoch: sampler.stepsPerEpoch))
        try checkModelFitsData()
        try checkValidationSettings()
    }

    /// A sampler's refusal in the config's terms, with sizes that would work.
    static func batchSizeProblem(_ e: SamplerError) -> String {
        switch e {
        case .emptyBatch: return "must be positive"
        case .batchSmallerThanRanks(let b, let n):
            return
                "\(b) cannot give each of \(n) ranks a sample: use a batch size of at least \(n), or at most \(b) ranks"
        case .batchLargerThanData(let b, let n):
            return "\(b) is larger than the \(n) training samples (with drop_last)"
        }
    }

    /// The step at which the run ends.
    public var totalSteps: Int { Trainer.totalSteps(config.train, batchesPerEpoch: stream.sampler.stepsPerEpoch) }

    /// The step at which a run ends: max_steps, or every epoch's steps (a step takes
    /// grad_accumulation global batches).
    static func totalSteps(_ t: TrainConfig, batchesPerEpoch: Int) -> Int {
        let perEpoch = (batchesPerEpoch + t.gradAccumulation - 1) / t.gradAccumulation
        return min(t.maxSteps ?? Int.max, perEpoch * t.epochs)
    }

    /// A config mistake found while setting up a run, named with the config file.
    static func configError(_ options: RunOptions, _ path: String, _ message: String) -> ConfigError {
        ConfigError(file: options.configFile, path: path, message: message)
    }

    /// Trains until the last epoch or max_steps, or until a stop signal; evaluates every epoch and
    /// at the end; checkpoints as configured. The whole loop, top to bottom.
    @discardableResult
    public func fit() throws -> FitResult {
        try prepare()  // resume or warm start, broadcast, buckets, logs
        defer { endTraining() }  // hooks off, prefetch dropped: nothing outlives fit()
        let end = totalSteps
        progress = Progress(totalSteps: end, quiet: options.quiet || !rank0)
        if rank0 { announce() }
        // Throughput counts training steps only (as PyTorch's loop timing does), not evaluation.
        var intervalSeconds = 0.0
        var intervalSamples = 0.0
        while step < end && !stoppedEarly {
            let epoch = cursor.epoch
            let t0 = ProcessInfo.processInfo.systemUptime
            let outcome = try trainStep()  // forward, backward, reduce, update; global sums agreed
            let now = ProcessInfo.processInfo.systemUptime
            if firstStepSeconds == nil { firstStepSeconds = ProcessClock.secondsSinceStart() }
            pending += outcome.sums
            intervalSamples += outcome.sums.count
            intervalSeconds += now - t0
            let rate = intervalSamples / max(intervalSeconds, 1e-9)
            progress.update(
                step: step, epoch: epoch, loss: outcome.sums.meanLoss, samplesPerSecond: rate, elapsed: now - startTime)
            if step % config.train.logEverySteps == 0 || step == end {
                try logTrain(epoch: epoch, samplesPerSecond: rate)
                intervalSeconds = 0
                intervalSamples = 0
                if options.debug { try checkReplicasAgree() }
            }
            let epochEnded = cursor.epoch > epoch
            let evaluated = epochEnded || step == end || config.train.evalEverySteps.map { step % $0 == 0 } == true
            if evaluated { try evaluateDuringTraining(epoch: epoch) }  // may decide to stop early
            if stoppedEarly && pending.count > 0 { try logTrain(epoch: epoch, samplesPerSecond: rate) }
            if data.validation != nil && (step == end || stoppedEarly) { try finishWithTest(epoch: epoch) }
            if evaluated || step % config.checkpoint.everySteps == 0 || outcome.stop != 0 { saveCheckpoint() }
            if outcome.stop != 0 { return try stop(signal: outcome.stop) }
        }
        try finishCheckpoints()
        progress.finish()
        if rank0 { farewell() }
        return FitResult(
            steps: step, test: lastTest?.sums, validation: lastValidation, stoppedBySignal: false,
            stoppedEarly: stoppedEarly, lastCheckpoint: keeper?.last)
    }

    /// Backward hooks come off the model's parameters (a backward outside `fit()` must not start
    /// collectives; batch norm updates its own statistics again), a prefetched batch is dropped
    /// and queued checkpoint writes finish.
    func endTraining() {
        parallel?.detach()
        runningStatistics?.detach()
        SyncBatchNorm.detach(from: model)
        stream.cancelPrefetch()
        keeper?.drain()
    }

    /// Waits for rank 0's queued checkpoint writes; if one failed, every rank ends with an error.
    func finishCheckpoints() throws {
        keeper?.drain()
        let failed = try communicator.at().allreduce([keeper?.firstFailure != nil ? 1 : 0])[0] > 0
        if failed { throw checkpointFailure() }
    }

    func stop(signal: Int32) throws -> FitResult {
        try finishCheckpoints()
        progress.finish()
        onEvent?(.stopped(step: step, signal: signal))
        if rank0 {  // even with --quiet: this is what the user must know to continue
            let how = options.command.map { "resume with: \($0) --resume auto" } ?? "resume with --resume auto"
            let name = StopSignal.name(signal)
            log.notice("stopped by \(name) at step \(step); checkpoint \(keeper?.last ?? "?"); \(how)")
        }
        return FitResult(steps: step, test: lastTest?.sums, stoppedBySignal: true, lastCheckpoint: keeper?.last)
    }

    func announce() {
        var mode = config.determinism.isExact ? "exact (\(config.determinism.virtualShards) virtual shards)" : "fast"
        if case .fast(_, let schedule, _) = parallel?.reduction, communicator.size > 1 {
            mode += schedule == .afterBackward ? " (gradients reduced after backward)" : " (overlapped)"
        }
        progress.line(
            "tandem: \(config.name): \(model.parameterCount) parameters, \(data.train.count) training samples, "
                + "\(communicator.size) rank(s) [\(communicator.kind)], global batch \(config.train.batchSize), "
                + "\(totalSteps) steps, determinism \(mode); OpenBLAS \(BLAS.kernel) kernel, "
                + "\(BLAS.threads) thread(s); oneDNN \(Parallel.productThreads), "
                + "Tandem's kernels \(Parallel.threads) thread(s)"
                + (config.train.precision == .bf16 ? "; bf16 products: \(Autocast.pathDescription)" : ""))
        if config.train.precision == .bf16 && !Autocast.isNative && rank0 {
            log.warning("train.precision bf16 on a CPU without AVX512_BF16 or AMX: \(Autocast.pathDescription)")
        }
    }

    func farewell() {
        var s = "tandem: done after \(step) steps in \(clock(ProcessInfo.processInfo.systemUptime - startTime))"
        if let t = firstStepSeconds { s += " (first step \(fmt(t, 2)) s after start)" }
        if stoppedEarly { s += " (stopped early)" }
        if let t = lastTest?.sums {
            s += "; test loss \(fmt(t.meanLoss, 4))"
            if data.test.classCount != nil { s += ", accuracy \(fmt(t.accuracy, 4))" }
        }
        if let folder = options.runFolder {
            s += "\n  metrics:    \(folder.metrics)"
            if let c = keeper?.last { s += "\n  checkpoint: \(c)" }
            s += "\n  plot:       tandem plot \(folder.path)"
        }
        progress.line(s)
    }

    func logTrain(epoch: Int, samplesPerSecond: Double) throws {
        var r = MetricsRecord(
            step: step, epoch: epoch, split: "train", loss: pending.meanLoss,
            accuracy: data.train.classCount != nil ? pending.accuracy : nil,
            samplesPerSecond: samplesPerSecond, lr: Double(optimizer.learningRate),
            time: ProcessInfo.processInfo.systemUptime - startTime, samples: Int(pending.count))
        if let c = try parallel?.takeStatistics() {
            r.commWaitMs = c.waitMs
            r.overlapped = c.overlapped
            r.stragglerWaitMs = c.stragglerWaitMs
            r.slowestRank = c.slowestRank
        }
        pending = MetricSums()
        metricsLog?.append(r)
        onEvent?(.train(r))
        if rank0 && !progress.isTerminal {
            progress.line(
                "step \(r.step)/\(totalSteps)  epoch \(epoch + 1)  loss \(fmt(r.loss, 4))"
                    + (r.accuracy.map { "  acc \(fmt($0, 4))" } ?? "") + "  \(Int(samplesPerSecond)) samples/s")
        }
    }
}
