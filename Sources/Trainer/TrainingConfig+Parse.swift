import Foundation

extension TrainingConfig {
    /// Datasets Tandem can load.
    public static let datasets = ["fashion-mnist", "mnist", "csv", "linear-regression", "sine"]

    /// Reads a parsed config (YAML or JSON as plain values) strictly: unknown keys, wrong types and
    /// impossible values are a `ConfigError` naming `file` and the key path.
    public static func parse(_ root: Any, file: String) throws -> TrainingConfig {
        guard let top = root as? [String: Any] else {
            throw ConfigError(file: file, path: "", message: "must be a mapping of settings (name, data, model, ...)")
        }
        let r = ConfigReader(top, file: file)
        let name = try r.string("name")
        // One path component (the default run directory is runs/<name>): ASCII letters and digits
        // first, then also '-', '_', '.'; never '.', '..' or a hidden name.
        func safe(_ c: Character, first: Bool) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || (!first && "-_.".contains(c)))
        }
        guard let head = name.first, safe(head, first: true), name.count <= 128,
              name.dropFirst().allSatisfy({ safe($0, first: false) }) else {
            throw r.error("name", "must be 1 to 128 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit, got '\(name.prefix(80))'")
        }
        let seed = try r.int("seed", default: 1, range: 0...Int.max)

        let d = try r.section("data", optional: false)
        var data = DataConfig(dataset: try d.string("dataset", choices: datasets))
        data.path = try d.optionalString("path")
        data.shuffle = try d.bool("shuffle", default: true)
        if (top["data"] as? [String: Any])?["normalize"] as? String == "auto" {
            d.accept("normalize")
            data.normalizeAuto = true
        } else if d.has("normalize") {
            let n = try d.section("normalize")
            data.normalizeMean = try n.float("mean")
            data.normalizeStd = try n.float("std", default: nil, "positive") { $0 > 0 }
            try n.finish()
        } else { d.accept("normalize") }
        data.limit = try d.optionalInt("limit", range: 1...Int.max)
        data.testLimit = try d.optionalInt("test_limit", range: 1...Int.max)
        data.dropLast = try d.bool("drop_last", default: true)
        data.prefetch = try d.bool("prefetch", default: false)
        data.oneHot = try d.bool("one_hot", default: false)
        if d.has("augment") {
            let a = try d.section("augment")
            data.horizontalFlip = try a.bool("horizontal_flip", default: false)
            data.cropPadding = try a.int("crop_padding", default: 0, range: 0...16)
            try a.finish()
        } else { d.accept("augment") }
        if data.dataset == "csv" {
            data.target = try d.string("target")
            data.task = try d.string("task", default: "classification", choices: ["classification", "regression"])
            data.missing = try d.string("missing", default: "error", choices: ["error", "drop", "mean", "median"])
            data.testPath = try d.optionalString("test_path")
            data.testFraction = try d.double("test_fraction", default: 0.2, "in (0, 1)") { $0 > 0 && $0 < 1 }
            guard data.path != nil else { throw d.error("path", "is required for dataset csv") }
        }
        if data.dataset == "linear-regression" || data.dataset == "sine" {
            data.samples = try d.int("samples", default: 1024, range: 1...10_000_000)
            data.testSamples = try d.int("test_samples", default: 256, range: 1...10_000_000)
            if data.dataset == "sine" { data.steps = try d.int("steps", default: 20, range: 1...10_000) }
        }
        try d.finish()

        let modelList = try r.list("model")
        guard !modelList.isEmpty else { throw r.error("model", "needs at least one layer") }
        let model = try modelList.enumerated().map { try LayerSpec.parse($0.element, index: $0.offset, file: file) }

        let lossName = try r.string("loss", choices: LossKind.allCases.map(\.rawValue))
        let loss = LossKind(rawValue: lossName)!

        let o = try r.section("optimizer", optional: false)
        let optName = try o.string("name", choices: ["sgd", "adam", "adamw", "rmsprop"])
        var opt = OptimizerConfig(name: optName, lr: try o.float("lr", default: nil, "positive") { $0 > 0 })
        if optName == "sgd" || optName == "rmsprop" {
            opt.momentum = try o.float("momentum", default: 0, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        }
        if optName == "sgd" {
            opt.dampening = try o.float("dampening", default: 0, "in [0, 1]") { $0 >= 0 && $0 <= 1 }
            opt.nesterov = try o.bool("nesterov", default: false)
            if opt.nesterov && (opt.momentum == 0 || opt.dampening != 0) {
                throw o.error("nesterov", "needs momentum > 0 and dampening 0")
            }
        }
        if o.has("weight_decay") || optName == "adamw" {
            opt.weightDecay = try o.float("weight_decay", default: optName == "adamw" ? 0.01 : 0, "at least 0") { $0 >= 0 }
        } else { o.accept("weight_decay") }
        if optName == "adam" || optName == "adamw" {
            if o.has("betas") {
                let b = try o.list("betas")
                guard b.count == 2, let b1 = ConfigReader.number(b[0]), let b2 = ConfigReader.number(b[1]),
                      (0..<1).contains(b1), (0..<1).contains(b2) else {
                    throw o.error("betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]")
                }
                opt.beta1 = Float(b1); opt.beta2 = Float(b2)
            } else { o.accept("betas") }
        }
        if optName != "sgd" { opt.eps = try o.float("eps", default: 1e-8, "positive") { $0 > 0 } }
        if optName == "rmsprop" { opt.alpha = try o.float("alpha", default: 0.99, "in [0, 1)") { $0 >= 0 && $0 < 1 } }
        opt.schedule = try o.string("schedule", default: "constant", choices: ["constant", "step", "cosine"])
        if opt.schedule == "step" {
            opt.stepEvery = try o.int("step_every", range: 1...Int.max)
            opt.gamma = try o.float("gamma", default: 0.1, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        }
        if opt.schedule == "cosine" {
            opt.warmupSteps = try o.int("warmup_steps", default: 0, range: 0...Int.max)
            opt.minLR = try o.float("min_lr", default: 0, "at least 0") { $0 >= 0 }
        }
        if o.has("clip_grad_norm") {
            opt.clipGradNorm = try o.float("clip_grad_norm", default: nil, "positive") { $0 > 0 }
        } else { o.accept("clip_grad_norm") }
        try o.finish()

        let t = try r.section("train", optional: false)
        var train = TrainConfig(epochs: try t.int("epochs", default: 1, range: 1...100_000),
                                batchSize: try t.int("batch_size", range: 1...1 << 20))
        train.maxSteps = try t.optionalInt("max_steps", range: 1...Int.max)
        train.gradAccumulation = try t.int("grad_accumulation", default: 1, range: 1...1024)
        train.logEverySteps = try t.int("log_every_steps", default: 50, range: 1...Int.max)
        train.evalBatchSize = try t.int("eval_batch_size", default: 1000, range: 1...1 << 20)
        train.onNonfinite = try t.string("on_nonfinite", default: "abort", choices: ["abort", "skip"])
        try t.finish()

        let c = try r.section("checkpoint")
        var ckpt = CheckpointConfig()
        ckpt.everySteps = try c.int("every_steps", default: 500, range: 1...Int.max)
        ckpt.keepLast = try c.int("keep_last", default: 3, range: 1...10_000)
        ckpt.keepBest = try c.bool("keep_best", default: false)
        try c.finish()

        var det = DeterminismConfig()
        if let s = top["determinism"] as? String {
            r.accept("determinism")
            guard s == "fast" || s == "exact" else { throw r.error("determinism", "must be fast, exact or {mode: exact, virtual_shards: 4}, got '\(s)'") }
            det.mode = s
        } else {
            let dm = try r.section("determinism")
            det.mode = try dm.string("mode", default: "fast", choices: ["fast", "exact"])
            det.virtualShards = try dm.int("virtual_shards", default: 4, range: 1...1024)
            try dm.finish()
        }
        if det.isExact {
            guard det.virtualShards & (det.virtualShards - 1) == 0 else {
                throw r.error("determinism.virtual_shards", "must be a power of two, got \(det.virtualShards)")
            }
            guard train.batchSize % det.virtualShards == 0 else {
                throw r.error("train.batch_size", "\(train.batchSize) must be divisible by determinism.virtual_shards (\(det.virtualShards)) in exact mode")
            }
        }

        let ds = try r.section("distributed")
        var dist = DistributedConfig()
        dist.bucketMB = try ds.double("bucket_mb", default: 1, "between 0.001 and 1024") { $0 >= 0.001 && $0 <= 1024 }
        dist.timeoutS = try ds.double("timeout_s", default: 300, "between 0.001 and 1000000 (11.6 days)") { $0 >= 0.001 && $0 <= 1e6 }
        try ds.finish()
        try r.finish()

        return TrainingConfig(name: name, seed: UInt64(seed), data: data, model: model, loss: loss, optimizer: opt,
                              train: train, checkpoint: ckpt, determinism: det, distributed: dist)
    }

    /// The config as plain values (the form `parse` reads), for trainer.json and `--set`.
    public var configValue: [String: Any] {
        // Every value parse accepts is finite and fits its type, so encoding cannot fail; an empty
        // mapping (which parse then refuses) is the safe answer if it ever did.
        guard let json = try? JSONEncoder.tandem.encode(self),
              let data = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return [:] }
        return data
    }
}

extension JSONEncoder {
    /// Sorted keys, for files people diff.
    static var tandem: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
