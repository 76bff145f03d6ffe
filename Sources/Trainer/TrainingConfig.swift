/// Everything a run needs, resolved: what `configs/*.yaml` holds after defaults and overrides.
/// It is saved in every checkpoint's trainer.json so eval, predict and resume rebuild the same run.
public struct TrainingConfig: Encodable, Equatable, Sendable {
    public var name: String
    public var seed: UInt64
    public var data: DataConfig
    public var model: [LayerSpec]
    public var loss: LossKind
    public var optimizer: OptimizerConfig
    public var train: TrainConfig
    public var checkpoint: CheckpointConfig
    public var determinism: DeterminismConfig
    public var distributed: DistributedConfig

    public init(name: String, seed: UInt64 = 1, data: DataConfig, model: [LayerSpec], loss: LossKind,
                optimizer: OptimizerConfig, train: TrainConfig, checkpoint: CheckpointConfig = CheckpointConfig(),
                determinism: DeterminismConfig = DeterminismConfig(), distributed: DistributedConfig = DistributedConfig()) {
        self.name = name; self.seed = seed; self.data = data; self.model = model; self.loss = loss
        self.optimizer = optimizer; self.train = train; self.checkpoint = checkpoint
        self.determinism = determinism; self.distributed = distributed
    }
}

/// Which loss, from logits or predictions.
public enum LossKind: String, Codable, CaseIterable, Sendable {
    case crossEntropy = "cross_entropy", mse, bceWithLogits = "bce_with_logits"
}

public struct DataConfig: Encodable, Equatable, Sendable {
    /// fashion-mnist, mnist (any MNIST-style folder), csv, linear-regression, sine.
    public var dataset: String
    public var path: String?
    public var shuffle: Bool = true
    /// Subtract mean and divide by std (after scaling bytes to [0, 1]); nil keeps values.
    public var normalizeMean: Float?
    public var normalizeStd: Float?
    /// `normalize: auto`: mean and std computed from the training split.
    public var normalizeAuto = false
    /// Use only the first N training samples.
    public var limit: Int?
    public var testLimit: Int?
    public var dropLast: Bool = true
    public var horizontalFlip: Bool = false
    public var cropPadding: Int = 0
    public var oneHot: Bool = false
    // csv
    public var target: String?
    public var task: String?
    public var missing: String = "error"
    public var testPath: String?
    public var testFraction: Double = 0.2
    // synthetic
    public var samples: Int = 1024
    public var testSamples: Int = 256
    public var steps: Int = 20
    /// Background preparation of the next batch.
    public var prefetch: Bool = false

    public init(dataset: String) { self.dataset = dataset }
    enum CodingKeys: String, CodingKey {
        case dataset, path, shuffle, normalizeMean = "normalize_mean", normalizeStd = "normalize_std", limit,
             testLimit = "test_limit", dropLast = "drop_last", horizontalFlip = "horizontal_flip",
             cropPadding = "crop_padding", oneHot = "one_hot", target, task, missing, testPath = "test_path",
             testFraction = "test_fraction", samples, testSamples = "test_samples", steps, prefetch
    }
}

public struct OptimizerConfig: Encodable, Equatable, Sendable {
    /// sgd, adam, adamw, rmsprop.
    public var name: String
    public var lr: Float
    public var momentum: Float = 0
    public var dampening: Float = 0
    public var nesterov: Bool = false
    public var weightDecay: Float?
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var alpha: Float = 0.99
    /// constant, step, cosine.
    public var schedule: String = "constant"
    public var stepEvery: Int = 1000
    public var gamma: Float = 0.1
    public var warmupSteps: Int = 0
    public var minLR: Float = 0
    public var clipGradNorm: Float?

    public init(name: String, lr: Float) { self.name = name; self.lr = lr }
    enum CodingKeys: String, CodingKey {
        case name, lr, momentum, dampening, nesterov, weightDecay = "weight_decay", beta1, beta2, eps, alpha,
             schedule, stepEvery = "step_every", gamma, warmupSteps = "warmup_steps", minLR = "min_lr",
             clipGradNorm = "clip_grad_norm"
    }
}

public struct TrainConfig: Encodable, Equatable, Sendable {
    public var epochs: Int
    /// Global batch size (all ranks together).
    public var batchSize: Int
    public var maxSteps: Int?
    public var gradAccumulation: Int = 1
    public var logEverySteps: Int = 50
    public var evalBatchSize: Int = 1000
    /// skip or abort.
    public var onNonfinite: String = "abort"

    public init(epochs: Int, batchSize: Int) { self.epochs = epochs; self.batchSize = batchSize }
    enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch_size", maxSteps = "max_steps", gradAccumulation = "grad_accumulation",
             logEverySteps = "log_every_steps", evalBatchSize = "eval_batch_size", onNonfinite = "on_nonfinite"
    }
}

public struct CheckpointConfig: Encodable, Equatable, Sendable {
    public var everySteps: Int = 500
    public var keepLast: Int = 3
    public var keepBest: Bool = false
    public init() {}
    enum CodingKeys: String, CodingKey { case everySteps = "every_steps", keepLast = "keep_last", keepBest = "keep_best" }
}

public struct DeterminismConfig: Encodable, Equatable, Sendable {
    /// fast or exact.
    public var mode: String = "fast"
    public var virtualShards: Int = 4
    public init() {}
    public var isExact: Bool { mode == "exact" }
    enum CodingKeys: String, CodingKey { case mode, virtualShards = "virtual_shards" }
}

public struct DistributedConfig: Encodable, Equatable, Sendable {
    /// Gradient bucket size in MiB (see docs/ARCHITECTURE.md for how the default was chosen).
    public var bucketMB: Double = 1
    public var timeoutS: Double = 300
    public init() {}
    enum CodingKeys: String, CodingKey { case bucketMB = "bucket_mb", timeoutS = "timeout_s" }
}
