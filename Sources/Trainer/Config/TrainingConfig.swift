import Distributed
import Foundation
import Tensor

/// Everything a run needs, resolved: what `configs/*.yaml` holds after defaults and overrides.
/// It is saved in every checkpoint's trainer.json so eval, predict and resume rebuild the same run.
/// Each section is its own type with its parse and encode next to it (this folder).
public struct TrainingConfig: Equatable, Sendable {
    /// The run's name (its default folder is runs/<name>).
    public var name: String
    /// Every random draw derives from it.
    public var seed: UInt64
    /// The dataset and its preprocessing.
    public var data: DataConfig
    /// The layers, in PyTorch nn.Sequential order.
    public var model: [LayerSpec]
    /// The loss function; nil for a run whose `Loss` was given from Swift (saved as `swift`).
    public var loss: LossSpec?
    /// The optimizer, learning rate and schedule.
    public var optimizer: OptimizerSpec
    /// Epochs, batch size and the loop's settings.
    public var train: TrainConfig
    /// When checkpoints are written and kept.
    public var checkpoint: CheckpointConfig
    /// Fast, or exact (bit-identical across rank counts).
    public var determinism: Determinism
    /// Bucket size, timeout and reduction schedule.
    public var distributed: DistributedConfig

    /// A config from its sections.
    public init(
        name: String, seed: UInt64 = 1, data: DataConfig, model: [LayerSpec], loss: LossSpec?,
        optimizer: OptimizerSpec, train: TrainConfig, checkpoint: CheckpointConfig = CheckpointConfig(),
        determinism: Determinism = .fast, distributed: DistributedConfig = DistributedConfig()
    ) {
        self.name = name
        self.seed = seed
        self.data = data
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.train = train
        self.checkpoint = checkpoint
        self.determinism = determinism
        self.distributed = distributed
    }

    /// Reads a parsed config (YAML or JSON, as plain values) strictly: unknown keys, wrong types
    /// and impossible values are a `ConfigError` naming `file` and the key path.
    /// A config saved in a checkpoint (`fromCheckpoint`) may record a run built in Swift: no
    /// layers, and `swift` for its data or loss.
    public static func parse(_ root: Any, file: String, fromCheckpoint: Bool = false) throws -> TrainingConfig {
        guard let top = root as? [String: Any] else {
            throw ConfigError(file: file, path: "", message: "must be a mapping of settings (name, data, model, ...)")
        }
        let r = ConfigReader(top, file: file, fromCheckpoint: fromCheckpoint)
        let name = try parseName(r)
        let seed = try r.int("seed", default: 1, range: 0...Int.max)
        let data = try DataConfig.parse(try r.section("data", optional: false))
        let layers = try r.list("model")
        guard !layers.isEmpty || fromCheckpoint else { throw r.error("model", "needs at least one layer") }
        let model = try layers.enumerated().map { try LayerSpec.parse($0.element, index: $0.offset, file: file) }
        let loss = try LossSpec.parse(r)
        let optimizer = try OptimizerSpec.parse(try r.section("optimizer", optional: false))
        let train = try TrainConfig.parse(try r.section("train", optional: false))
        let checkpoint = try CheckpointConfig.parse(try r.section("checkpoint"))
        let determinism = try Determinism.parse(r, top: top)
        if determinism.isExact && train.batchSize % determinism.virtualShards != 0 {
            throw r.error(
                "train.batch_size",
                "\(train.batchSize) must be divisible by determinism.virtual_shards (\(determinism.virtualShards)) "
                    + "in exact mode"
            )
        }
        let distributed = try DistributedConfig.parse(try r.section("distributed"))
        if determinism.isExact && distributed.compression != .none {
            throw r.error(
                "distributed.compression",
                "\(distributed.compression.rawValue) rounds gradients, which exact mode never does; use fast mode "
                    + "or none"
            )
        }
        try r.finish()
        return TrainingConfig(
            name: name, seed: UInt64(seed), data: data, model: model, loss: loss, optimizer: optimizer,
            train: train, checkpoint: checkpoint, determinism: determinism, distributed: distributed)
    }

    /// One path component (the default run directory is runs/<name>): ASCII letters and digits
    /// first, then also '-', '_', '.'; never '.', '..' or a hidden name.
    static func parseName(_ r: ConfigReader) throws -> String {
        let name = try r.string("name")
        func safe(_ c: Character, first: Bool) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || (!first && "-_.".contains(c)))
        }
        guard let head = name.first, safe(head, first: true), name.count <= 128,
            name.dropFirst().allSatisfy({ safe($0, first: false) })
        else {
            throw r.error(
                "name",
                "must be 1 to 128 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit, got "
                    + "'\(name.prefix(80))'"
            )
        }
        return name
    }

    /// The config as plain JSON values (the form `parse` reads), for trainer.json and config.json.
    public var configValue: [String: Any] {
        let value: [String: Any] = [
            "name": name, "seed": seed, "data": data.configValue, "model": model.map(\.configValue),
            "loss": loss?.rawValue ?? LossSpec.swiftName, "optimizer": optimizer.configValue,
            "train": train.configValue,
            "checkpoint": checkpoint.configValue, "determinism": determinism.configValue,
            "distributed": distributed.configValue,
        ]
        // Through JSON and back, so numbers are what a file read gives (NSNumber), as parse expects.
        guard let json = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]),
            let plain = try? JSONSerialization.jsonObject(with: json) as? [String: Any]
        else { return value }
        return plain
    }
}

/// `train:` in a config.
public struct TrainConfig: Equatable, Sendable {
    /// Passes over the training split.
    public var epochs: Int
    /// Global batch size (all ranks together).
    public var batchSize: Int
    /// Stop after this many optimizer steps.
    public var maxSteps: Int?
    /// Global batches per optimizer step.
    public var gradAccumulation = 1
    /// Steps between train lines in metrics.jsonl.
    public var logEverySteps = 50
    /// Samples per evaluation block.
    public var evalBatchSize = 256
    /// Also evaluate the validation split every this many steps (besides every epoch end).
    public var evalEverySteps: Int?
    /// Stop when the validation figure stops improving.
    public var earlyStopping: EarlyStopping?
    /// What a non-finite loss or gradient does.
    public var onNonfinite: NonFinitePolicy = .abort
    /// The inputs of training's matrix products: fp32, or bf16 with float32 accumulation,
    /// float32 master weights, gradients and everything else (autocast).
    public var precision: ComputePrecision = .fp32
    /// Threads for this rank's kernels and products (nil: Tandem's kernels on one thread, the
    /// BLAS libraries as the environment sets them, as before the setting existed).
    public var threads: ThreadCount?

    /// Settings with every default but these two.
    public init(epochs: Int, batchSize: Int) {
        self.epochs = epochs
        self.batchSize = batchSize
    }

    static func parse(_ t: ConfigReader) throws -> TrainConfig {
        var train = TrainConfig(
            epochs: try t.int("epochs", default: 1, range: 1...100_000),
            batchSize: try t.int("batch_size", range: 1...1 << 20))
        train.maxSteps = try t.optionalInt("max_steps", range: 1...Int.max)
        train.gradAccumulation = try t.int("grad_accumulation", default: 1, range: 1...1024)
        train.logEverySteps = try t.int("log_every_steps", default: 50, range: 1...Int.max)
        train.evalBatchSize = try t.int("eval_batch_size", default: 256, range: 1...1 << 20)
        train.evalEverySteps = try t.optionalInt("eval_every_steps", range: 1...Int.max)
        if t.has("early_stopping") {
            train.earlyStopping = try EarlyStopping.parse(try t.section("early_stopping"))
        } else {
            t.accept("early_stopping")
        }
        let policy = try t.string("on_nonfinite", default: "abort", choices: NonFinitePolicy.allCases.map(\.rawValue))
        train.onNonfinite = NonFinitePolicy(rawValue: policy) ?? .abort
        let precision = try t.string("precision", default: "fp32", choices: ComputePrecision.allCases.map(\.rawValue))
        train.precision = ComputePrecision(rawValue: precision) ?? .fp32
        if t.values["threads"] as? String == "auto" {
            t.accept("threads")
            train.threads = .auto
        } else if let n = try t.optionalInt("threads", range: 1...1024) {
            train.threads = .count(n)
        }
        try t.finish()
        return train
    }

    var configValue: [String: Any] {
        var v: [String: Any] = [
            "epochs": epochs, "batch_size": batchSize, "grad_accumulation": gradAccumulation,
            "log_every_steps": logEverySteps, "eval_batch_size": evalBatchSize,
            "on_nonfinite": onNonfinite.rawValue, "precision": precision.rawValue,
        ]
        if let maxSteps { v["max_steps"] = maxSteps }
        if let threads { v["threads"] = threads.configValue }
        if let evalEverySteps { v["eval_every_steps"] = evalEverySteps }
        if let earlyStopping { v["early_stopping"] = earlyStopping.configValue }
        return v
    }
}

/// `train.threads`: a number, or `auto` (the cores this process may run on: what mpirun's or
/// Slurm's binding gave the rank).
public enum ThreadCount: Equatable, Sendable {
    /// Exactly this many.
    case count(Int)
    /// One per core in this process's CPU affinity mask.
    case auto

    /// The number of threads on this machine, now.
    public var resolved: Int {
        switch self {
        case .count(let n): return n
        case .auto: return Parallel.allowedCores
        }
    }

    var configValue: Any {
        switch self {
        case .count(let n): return n
        case .auto: return "auto"
        }
    }
}

/// `checkpoint:` in a config.
public struct CheckpointConfig: Equatable, Sendable {
    /// Steps between checkpoints (also at epoch ends).
    public var everySteps = 500
    /// Newest checkpoints kept.
    public var keepLast = 3
    /// Also keep the checkpoint with the best validation figure (`monitor`).
    public var keepBest = false
    /// What keep_best chooses by.
    public var monitor = Monitor.validationLoss
    /// Every default.
    public init() {}

    static func parse(_ c: ConfigReader) throws -> CheckpointConfig {
        var ckpt = CheckpointConfig()
        ckpt.everySteps = try c.int("every_steps", default: 500, range: 1...Int.max)
        ckpt.keepLast = try c.int("keep_last", default: 3, range: 1...10_000)
        ckpt.keepBest = try c.bool("keep_best", default: false)
        ckpt.monitor = try Monitor.parse(c)
        try c.finish()
        return ckpt
    }

    var configValue: [String: Any] {
        ["every_steps": everySteps, "keep_last": keepLast, "keep_best": keepBest, "monitor": monitor.rawValue]
    }
}

/// `distributed:` in a config.
public struct DistributedConfig: Equatable, Sendable {
    /// Gradient bucket size in MiB (see docs/ARCHITECTURE.md for how the default was chosen).
    public var bucketMB = 1.0
    /// Choose the bucket size by measurement at start (`bucket_mb: auto`) instead of `bucketMB`.
    public var bucketAuto = false
    /// Seconds a collective may take before the watchdog ends the job.
    public var timeoutS = 300.0
    /// When fast mode reduces the gradient buckets.
    public var reduce = Reduce.auto
    /// What fast mode's gradients travel as.
    public var compression = Compression.none
    /// Time each rank's wait for the slowest at the end of backward (a barrier per step) and log
    /// it with the rank the others waited for.
    public var measureStragglers = false
    /// Every default.
    public init() {}

    /// `distributed.compression`: float32 gradients, or bfloat16 on the wire (fast mode only).
    public enum Compression: String, Sendable, CaseIterable {
        /// The float32 gradients as they are.
        case none
        /// Half the bytes: each bucket rounded to bfloat16 and summed in bfloat16 (PyTorch DDP's
        /// bf16 hook); gradients lose precision (8 mantissa bits), so never in exact mode.
        case bf16

        /// The buckets' own vocabulary for it.
        var wire: GradientBuckets.Compression { self == .bf16 ? .bf16 : .none }
    }

    /// `distributed.reduce`: during backward (overlap), after it, or chosen from where the ranks run.
    public enum Reduce: String, Sendable, CaseIterable {
        /// After backward when every rank is on one host (shared memory: the reduction is CPU work
        /// that overlap cannot hide), overlapped otherwise.
        case auto
        case overlap
        case afterBackward = "after_backward"
    }

    static func parse(_ d: ConfigReader) throws -> DistributedConfig {
        var dist = DistributedConfig()
        if d.values["bucket_mb"] as? String == "auto" {
            d.accept("bucket_mb")
            dist.bucketAuto = true
        } else {
            dist.bucketMB = try d.double("bucket_mb", default: 1, "auto or between 0.001 and 1024") {
                $0 >= 0.001 && $0 <= 1024
            }
        }
        dist.timeoutS = try d.double("timeout_s", default: 300, "between 0.001 and 1000000 (11.6 days)") {
            $0 >= 0.001 && $0 <= 1e6
        }
        let reduce = try d.string("reduce", default: "auto", choices: Reduce.allCases.map(\.rawValue))
        dist.reduce = Reduce(rawValue: reduce) ?? .auto
        let compression = try d.string("compression", default: "none", choices: Compression.allCases.map(\.rawValue))
        dist.compression = Compression(rawValue: compression) ?? .none
        dist.measureStragglers = try d.bool("measure_stragglers", default: false)
        try d.finish()
        return dist
    }

    var configValue: [String: Any] {
        [
            "bucket_mb": bucketAuto ? "auto" : bucketMB, "timeout_s": timeoutS, "reduce": reduce.rawValue,
            "compression": compression.rawValue, "measure_stragglers": measureStragglers,
        ]
    }
}
