// The encoded config has exactly the shape `TrainingConfig.parse` reads, so a saved
// trainer.json config (and `--set` on it) goes back through the same strict reader.

extension DataConfig {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONValue.Key.self)
        func put<T: Encodable>(_ v: T?, _ k: String) throws { if let v { try c.encode(v, forKey: .init(stringValue: k)) } }
        try put(dataset, "dataset"); try put(path, "path"); try put(shuffle, "shuffle")
        if normalizeAuto {
            try c.encode("auto", forKey: .init(stringValue: "normalize"))
        } else if let m = normalizeMean, let s = normalizeStd {
            try c.encode(["mean": m, "std": s], forKey: .init(stringValue: "normalize"))
        }
        try put(limit, "limit"); try put(testLimit, "test_limit"); try put(dropLast, "drop_last")
        try put(prefetch, "prefetch"); try put(oneHot, "one_hot")
        if horizontalFlip || cropPadding > 0 {
            try c.encode(JSONValue(["horizontal_flip": horizontalFlip, "crop_padding": cropPadding]), forKey: .init(stringValue: "augment"))
        }
        if dataset == "csv" {
            try put(target, "target"); try put(task, "task"); try put(missing, "missing")
            try put(testPath, "test_path"); try put(testFraction, "test_fraction")
        }
        if dataset == "linear-regression" || dataset == "sine" {
            try put(samples, "samples"); try put(testSamples, "test_samples")
            if dataset == "sine" { try put(steps, "steps") }
        }
    }
}

extension OptimizerConfig {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONValue.Key.self)
        func put<T: Encodable>(_ v: T?, _ k: String) throws { if let v { try c.encode(v, forKey: .init(stringValue: k)) } }
        try put(name, "name"); try put(lr, "lr")
        if name == "sgd" || name == "rmsprop" { try put(momentum, "momentum") }
        if name == "sgd" { try put(dampening, "dampening"); try put(nesterov, "nesterov") }
        try put(weightDecay, "weight_decay")
        if name == "adam" || name == "adamw" { try put([beta1, beta2], "betas") }
        if name != "sgd" { try put(eps, "eps") }
        if name == "rmsprop" { try put(alpha, "alpha") }
        try put(schedule, "schedule")
        if schedule == "step" { try put(stepEvery, "step_every"); try put(gamma, "gamma") }
        if schedule == "cosine" { try put(warmupSteps, "warmup_steps"); try put(minLR, "min_lr") }
        try put(clipGradNorm, "clip_grad_norm")
    }
}
