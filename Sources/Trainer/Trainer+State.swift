import Data
import Distributed
import Foundation
import Logging
import NN
import Optim

extension Trainer {
    var checkpointDirectory: String? { options.runFolder?.checkpoints }

    /// Before the first step: resume or warm start (rank 0 reads, everyone receives), the
    /// gradient buckets, the metrics log and the saved config.
    func prepare() throws {
        StopSignal.install()
        if options.debug { AnomalyDetection.enabled = true }
        if let threads = config.train.threads?.resolved {
            // Tandem's kernels give the same bits on any thread count (fixed blocks); oneDNN's
            // products need not, so exact mode's DataParallel (made below) puts them back on one
            // thread. OpenBLAS only takes the products too small for oneDNN, where threads do not
            // pay: one thread, and no second pool of spinning threads beside libgomp's (1x2 resnet
            // varied 1.1-1.7x with both).
            Parallel.setThreads(threads)
            Parallel.setProductThreads(threads)
            BLAS.setThreads(1)
        }
        var resumedAt: Int? = nil
        if let resume = options.resume {
            resumedAt = try resumeFrom(resume)
            resumed = resumedAt != nil
        } else if let initFrom = options.initFrom {
            try loadOnRank0("--init-from") { try self.model.loadWeights(from: initFrom) }
        }
        // Every replica starts from rank 0's parameters and buffers (equal by construction, or
        // read by rank 0 alone): DataParallel broadcasts them.
        let reduction: DataParallel.Reduction
        switch config.determinism {
        case .fast:
            reduction = .fast(
                bucketMB: try bucketMB(), schedule: try reduceSchedule(),
                compression: config.distributed.compression.wire)
        case .exact(let v): reduction = .exact(virtualShards: v)
        }
        parallel = try DataParallel(
            model: model, communicator: communicator, reduction: reduction,
            measuresStragglers: config.distributed.measureStragglers, keepsStatistics: false)
        if options.debug { try checkReplicasAgree() }
        runningStatistics = RunningStatistics(model: model)
        syncBatchNorm = SyncBatchNorm.attach(to: model, communicator: communicator)
        // Rank 0's files; a failure (read-only or full disk) ends every rank with its message.
        if let folder = options.runFolder {
            try loadOnRank0("run directory") {
                try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
                try Checkpoint.makeDirectory(folder.checkpoints)
                let json = try JSONSerialization.data(
                    withJSONObject: self.config.configValue, options: [.prettyPrinted, .sortedKeys])
                self.metricsLog = try MetricsLog(
                    path: folder.metrics, resumingAt: resumedAt, logger: self.log,
                    tensorBoard: (folder.tensorBoard, String(decoding: json, as: UTF8.self)))
                guard FileManager.default.createFile(atPath: folder.config, contents: json) else {
                    throw CheckpointError(path: folder.config, message: "cannot be written")
                }
            }
        }
    }

    /// Runs `body` on rank 0; a failure there ends every rank with rank 0's message (no hang).
    func loadOnRank0(_ what: String, _ body: () throws -> Void) throws {
        var message = ""
        if rank0 { do { try body() } catch { message = error is CocoaError ? Checkpoint.describe(error) : "\(error)" } }
        let failed = try communicator.at().allreduce([message.isEmpty ? 0 : 1])[0] > 0
        if failed { throw TrainerError(rank0 ? "tandem: \(what): \(message)" : "tandem: \(what) failed on rank 0") }
    }

    /// Restores model, optimizer and loop state; returns the step resumed at, or nil (nothing found).
    func resumeFrom(_ spec: String) throws -> Int? {
        var encoded = ResumeState.none
        try loadOnRank0("--resume \(spec)") {
            guard let path = try resumePath(spec) else { return }
            encoded = try loadCheckpoint(path).encoded()
        }
        try encoded.withUnsafeMutableBytes { try communicator.at().broadcast($0, root: 0) }
        guard let state = try ResumeState(decoding: encoded) else {
            if rank0 { log.notice("no valid checkpoint to resume from; starting at step 0") }
            return nil
        }
        for t in optimizer.stateTensors { try communicator.at().broadcast(t.storage.buffer, root: 0) }
        step = state.step
        cursor = state.cursor
        pending = state.pending
        optimizer.stepCount = state.optimizerSteps
        keeper?.best = state.keepBest
        earlyStop = state.earlyStopping
        if state.hasBestWeights {
            if bestWeights == nil { bestWeights = model.stateDict.map { $0.tensor.detached() } }
            for t in bestWeights ?? [] { try communicator.at().broadcast(t.storage.buffer, root: 0) }
        }
        if let es = config.train.earlyStopping, let e = earlyStop { stoppedEarly = e.stale >= es.patience }
        return step
    }

    /// The checkpoint `--resume` names: a folder, or with `auto` the run's newest that verifies.
    func resumePath(_ spec: String) throws -> String? {
        guard spec == "auto" else { return spec }
        guard let dir = checkpointDirectory else { throw TrainerError("--resume auto needs a run directory") }
        // Warnings and the resume note print even with --quiet: they say what the run did.
        let log = self.log
        return Checkpoint.newestValid(in: dir) { warning in log.warning("\(warning)") }
    }

    /// Rank 0: reads and verifies a checkpoint, loads its tensors into the model and optimizer
    /// (and restore_best's weights aside) and returns the rest of its state, validated.
    func loadCheckpoint(_ path: String) throws -> ResumeState {
        let ck = try Checkpoint.read(path)
        let m = ck.manifest
        try checkCompatible(m, path: path)
        if let problem = stream.sampler.problem(with: m.cursor) {
            throw CheckpointError(
                path: path + "/" + Checkpoint.manifestFile, message: "damaged or hand-edited: cursor \(problem)")
        }
        try model.load(ck.model.tensors, source: path + "/" + Checkpoint.modelFile)
        try optimizer.loadStateDict(
            ck.optimizer.tensors, metadata: ck.optimizer.metadata, source: path + "/" + Checkpoint.optimizerFile)
        let state: ResumeState
        do {
            state = try ResumeState(
                manifest: m, optimizerSteps: optimizer.stepCount, hasBestWeights: ck.bestModel != nil)
        } catch let e as ResumeStateError {
            throw CheckpointError(path: path + "/" + Checkpoint.manifestFile, message: "damaged or hand-edited: \(e)")
        }
        if let best = ck.bestModel {
            // Checked and converted by the model's own load, then the trained weights go back.
            let trained = model.stateDict.map { $0.tensor.detached() }
            try model.load(best.tensors, source: path + "/" + Checkpoint.bestModelFile)
            bestWeights = model.stateDict.map { $0.tensor.detached() }
            for ((_, t), w) in zip(model.stateDict, trained) { t.assign(w) }
        }
        keeper?.resumedFrom = path
        var note = "resuming from \(path) (step \(m.step), epoch \(m.cursor.epoch + 1))"
        if m.worldSize != communicator.size {
            note +=
                "; saved with \(m.worldSize) ranks, now \(communicator.size): "
                + (config.determinism.isExact
                    ? "exact mode continues bit for bit"
                    : "same samples, numerically close (not bit-identical) in fast mode")
        }
        log.notice("\(note)")
        return state
    }

    /// `distributed.bucket_mb`, or with `auto` the size measured fastest on these ranks (logged).
    func bucketMB() throws -> Double {
        let d = config.distributed
        guard d.bucketAuto else { return d.bucketMB }
        guard communicator.size > 1 else { return 1 }  // nothing travels
        let bytes = model.parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.count * 4 }
        let (choice, tried) = try GradientBuckets.measureBucketMB(gradientBytes: bytes, communicator: communicator)
        if rank0 {
            let timings = tried.map { "\(fmt($0.mb, 2)) MiB \(fmt($0.seconds * 1e3, 3)) ms" }.joined(separator: ", ")
            log.notice("bucket_mb auto: \(fmt(choice, 2)) MiB (one step's reduction of \(bytes >> 10) KiB: \(timings))")
        }
        return choice
    }

    /// `distributed.reduce` as the buckets' schedule; auto asks where the ranks run.
    func reduceSchedule() throws -> GradientBuckets.Schedule {
        switch config.distributed.reduce {
        case .overlap: return .overlapped
        case .afterBackward: return .afterBackward
        case .auto: return try communicator.at().hostCount() == 1 ? .afterBackward : .overlapped
        }
    }

    /// A checkpoint from another run shape cannot continue this one.
    func checkCompatible(_ m: CheckpointManifest, path: String) throws {
        let saved = try TrainingConfig.parse(
            m.config.value, file: path + "/" + Checkpoint.manifestFile, fromCheckpoint: true)
        var problems: [String] = []
        if saved.train.batchSize != config.train.batchSize {
            problems.append("train.batch_size \(saved.train.batchSize) vs \(config.train.batchSize)")
        }
        if saved.data.source.name != config.data.source.name || saved.data.limit != config.data.limit {
            problems.append("data")
        }
        if saved.seed != config.seed { problems.append("seed \(saved.seed) vs \(config.seed)") }
        if saved.optimizer.name != config.optimizer.name {
            problems.append("optimizer \(saved.optimizer.name) vs \(config.optimizer.name)")
        }
        if saved.determinism != config.determinism { problems.append("determinism") }
        guard problems.isEmpty else {
            throw TrainerError(
                "the checkpoint was made by a different run (\(problems.joined(separator: ", "))); start a new run "
                    + "directory or fix the config"
            )
        }
    }

    /// Rank 0 snapshots the state in memory and queues the write; other ranks go on at once.
    func saveCheckpoint() {
        guard let keeper else { return }
        let test = lastTest?.sums
        let manifest = CheckpointManifest(
            step: step, cursor: cursor, seed: config.seed, worldSize: communicator.size,
            pendingMetrics: pending.values,
            // Accuracy only for class labels (a regression run's 0 would read as a result).
            lastTest: test.map {
                ["loss": $0.meanLoss, "samples": $0.count].merging(
                    data.test.classCount != nil ? ["accuracy": $0.accuracy] : [:]
                ) { a, _ in a }
            },
            keepBest: keeper.best, earlyStopping: earlyStop, files: [:], config: JSONAny(config.configValue),
            input: InputRecord(data)
        )
        let opt = optimizer.stateDict()
        let names = model.stateDict.map(\.name)
        let snapshot = CheckpointSnapshot(
            manifest: manifest, model: model.stateDict.map { ($0.name, $0.tensor.detached()) },
            optimizer: opt.tensors, optimizerMetadata: opt.metadata, modelCounters: model.counterNames,
            bestModel: bestWeights.map { Array(zip(names, $0)) })
        let step = self.step
        let onEvent = self.onEvent
        keeper.save(snapshot, isBest: keeper.best?.step == step) { path in onEvent?(.checkpoint(path: path, step: step))
        }
    }

    /// Debug mode: all replicas must hold identical parameters and buffers (FNV-1a hash of their bytes).
    func checkReplicasAgree() throws {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (_, p) in model.stateDict {
            let raw = UnsafeRawBufferPointer(start: p.data, count: p.count * 4)
            for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        let all = try communicator.at().allgather(h)
        if Set(all).count > 1 {
            let groups = all.enumerated().map { "rank \($0.offset): \(String($0.element, radix: 16))" }.joined(
                separator: ", ")
            throw TrainerError(
                "tandem: replicas diverged at step \(step): parameter and buffer hashes differ (\(groups))")
        }
    }
}
