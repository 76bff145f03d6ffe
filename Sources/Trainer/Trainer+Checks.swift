import Data
import NN
import Optim

extension Trainer {
    /// The data, the model's output and the loss must fit each other. Checked once before
    /// training, from shapes alone, so a mismatch is one config error instead of a trap in the
    /// middle of a step.
    func checkModelFitsData() throws {
        func configError(_ path: String, _ message: String) -> ConfigError {
            Trainer.configError(options, path, message)
        }
        let train = data.train
        for other in [data.test] + (data.validation.map { [$0] } ?? []) where other.sampleShape != train.sampleShape {
            throw configError(
                "data",
                "samples of \(other.source) have shape \(other.sampleShape) but training samples have "
                    + "\(train.sampleShape) (\(train.source))"
            )
        }
        let perSample: [Int]
        do { perSample = Array(try model.outputShape(for: [1] + train.sampleShape).dropFirst()) } catch {
            throw configError("model", "does not fit samples of shape \(train.sampleShape): \(error)")
        }
        try checkLossFitsOutput(perSample, configError)
    }

    /// The loss against the model's output per sample and the data's targets.
    func checkLossFitsOutput(_ perSample: [Int], _ configError: (String, String) -> ConfigError) throws {
        let train = data.train
        guard let spec = self.loss.spec else { return }  // a closure's targets are its own affair
        let loss = spec.rawValue
        switch (spec, train.targets) {
        case (.crossEntropy, .values):
            throw configError(
                "loss", "cross_entropy needs class labels, but \(train.source) has regression targets (use mse)")
        case (.crossEntropy, .classes(_, let classes)):
            let needed = max(classes, data.test.classCount ?? 0)
            guard perSample.count == 1 else {
                throw configError(
                    "model",
                    "cross_entropy needs one row of class scores per sample; the model outputs shape \(perSample) "
                        + "per sample (add flatten and a linear layer)"
                )
            }
            guard perSample[0] >= needed else {
                throw configError(
                    "model",
                    "the last layer gives \(perSample[0]) class scores but the data has \(needed) classes; set its "
                        + "out to \(needed)"
                )
            }
        case (.crossEntropy, .tokens(_, let classes, let length)):
            guard perSample == [length, classes] else {
                throw configError(
                    "model",
                    "next-token cross_entropy needs [\(length), \(classes)] scores per sample (a score per vocabulary "
                        + "entry at each position); the model outputs shape \(perSample) per sample; end with "
                        + "linear: {out: vocab}"
                )
            }
        case (_, .tokens):
            throw configError("loss", "\(loss) does not apply to next-token targets; use loss: cross_entropy")
        case (_, .classes(_, let classes)) where !data.preprocessing.oneHot:
            throw configError(
                "loss",
                "\(loss) needs numeric targets, but \(train.source) has class labels (\(classes) classes); set "
                    + "data.one_hot: true or use loss: cross_entropy"
            )
        case (_, .classes(_, let width)), (_, .values(_, let width)):
            guard perSample == [width] else {
                throw configError(
                    "model",
                    "\(loss) compares the model's output with \(width) target value(s) per sample, but the model "
                        + "outputs shape \(perSample) per sample; end with linear: {out: \(width)}"
                )
            }
        }
    }

    /// keep_best and early stopping choose by validation results, never by the test split's.
    func checkValidationSettings() throws {
        var monitors: [(path: String, Monitor)] = []
        if config.checkpoint.keepBest { monitors.append(("checkpoint.keep_best", config.checkpoint.monitor)) }
        if let es = config.train.earlyStopping { monitors.append(("train.early_stopping", es.monitor)) }
        for (path, monitor) in monitors {
            guard data.validation != nil else {
                throw Trainer.configError(
                    options, path,
                    "needs validation data (data.validation_split: 0.1, or the dataset's own validation data): "
                        + "choosing by the test split would make its result optimistic")
            }
            if monitor == .validationAccuracy && data.train.classCount == nil {
                throw Trainer.configError(
                    options, path, "monitor validation_accuracy needs class labels; use validation_loss")
            }
        }
    }

    /// SyncBatchNorm needs every rank in every pass (its collectives run inside forward and
    /// backward) and fast mode (exact mode normalizes each virtual shard on its own).
    static func checkSyncBatchNorm(
        _ model: Module, _ config: TrainingConfig, sampler: ShardedSampler, ranks: Int, options: RunOptions
    ) throws {
        guard !SyncBatchNorm.layers(of: model).isEmpty else { return }
        if config.determinism.isExact {
            throw configError(
                options, "determinism",
                "batchnorm with sync: true needs fast mode (exact mode normalizes each virtual shard with its "
                    + "own statistics, the same for every rank count); use sync: false")
        }
        let tail = sampler.count % config.train.batchSize
        if !config.data.dropLast && tail > 0 && tail < ranks {
            throw configError(
                options, "data.drop_last",
                "the last batch of each epoch has \(tail) samples for \(ranks) ranks, and batchnorm with sync: true "
                    + "needs samples on every rank: set data.drop_last: true or change train.batch_size")
        }
    }

    /// The optimizer must update this model's trainable parameters, and there must be some.
    static func check(_ optimizer: Optimizer, of model: Module) throws {
        guard !optimizer.parameters.isEmpty else {
            throw TrainerError(
                "tandem: the model has no trainable parameters (every parameter has requiresGrad == false)")
        }
        let trainable = model.namedParameters.filter(\.tensor.requiresGrad)
        guard optimizer.parameters.map(\.name) == trainable.map(\.name),
            zip(optimizer.parameters, trainable).allSatisfy({ $0.tensor === $1.tensor })
        else {
            throw TrainerError("tandem: the optimizer was not made over this model's namedParameters")
        }
    }

    /// The run's sampler of whole global batches, after the checks of batch size and determinism
    /// against the rank count; `DataParallel` says which rows each rank computes (fast mode: a
    /// share per rank, each with at least one sample of a full batch).
    static func sampler(_ config: TrainingConfig, data: TrainingData, ranks: Int, options: RunOptions) throws
        -> ShardedSampler
    {
        func configError(_ path: String, _ message: String) -> ConfigError {
            Trainer.configError(options, path, message)
        }
        if let problem = config.determinism.problem(ranks: ranks) {
            throw configError("determinism.virtual_shards", problem)
        }
        if case .exact(let v) = config.determinism, config.train.batchSize % v != 0 {
            throw configError(
                "train.batch_size",
                "\(config.train.batchSize) must be divisible by the \(v) virtual shards in exact mode")
        }
        if config.determinism.isExact && config.train.gradAccumulation != 1 {
            throw configError("train.grad_accumulation", "must be 1 in exact mode (use more virtual shards instead)")
        }
        do {
            if !config.determinism.isExact && config.train.batchSize < ranks {
                throw SamplerError.batchSmallerThanRanks(batch: config.train.batchSize, ranks: ranks)
            }
            return try ShardedSampler(
                count: data.train.count, batchSize: config.train.batchSize, rank: 0, worldSize: 1,
                seed: config.seed, shuffle: config.data.shuffle, dropLast: config.data.dropLast)
        } catch let e as SamplerError {
            throw configError("train.batch_size", Trainer.batchSizeProblem(e))
        }
    }
}
