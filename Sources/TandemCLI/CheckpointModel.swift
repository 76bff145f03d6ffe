import ArgumentParser
import Foundation
import Tandem

/// `--checkpoint`, shared by the commands that use a trained model.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "A checkpoint folder (runs/NAME/checkpoints/step-N).") var checkpoint: String
}

/// A trained model rebuilt from a checkpoint alone: its config and input record (trainer.json)
/// and its weights. No trainer is built and no training data is read; checkpoints written
/// before trainer.json had an input record fall back to reading the training data once.
struct CheckpointModel {
    let path: String
    let config: TrainingConfig
    let model: Sequential
    let input: InputRecord

    /// Reads and verifies the checkpoint (every rank: it is small) and builds the model.
    init(path: String) throws {
        let ck = try Checkpoint.read(path)
        let file = path + "/" + Checkpoint.manifestFile
        config = try TrainingConfig.parse(ck.manifest.config.value, file: file, fromCheckpoint: true)
        guard !config.model.isEmpty, config.loss != nil else {
            throw TrainerError(
                "tandem: \(path): the run was built in Swift code (its model or loss has no config form); load its "
                    + "weights with your own model's loadWeights(from:) instead")
        }
        input = try ck.manifest.input ?? InputRecord(TrainingData.load(config))
        model = try ModelBuilder.build(
            config.model, sampleShape: input.sampleShape, seed: config.seed, file: file,
            vocabulary: input.vocabularyScalars?.count, context: config.data.source.context)
        try model.load(ck.model.tensors, source: path + "/" + Checkpoint.modelFile)
        self.path = path
    }

    /// Model outputs for a batch of inputs (evaluation mode, no tape).
    func predict(_ x: Tensor) -> Tensor {
        model.eval()
        defer { model.train() }
        return withoutGrad { model(x) }
    }

    /// One split of the run's data (only that split where the dataset allows), with its limit.
    func dataset(_ split: Trainer.Split) throws -> Dataset {
        if split == .validation {
            // A validation share is cut from the training split: the whole data is read to cut it alike.
            guard let v = try TrainingData.load(config).validation else {
                throw TrainerError("tandem: \(path): the run had no validation data")
            }
            return v
        }
        let d = try config.data.source.load(split, seed: config.seed)
        let limit = split == .train ? config.data.limit : config.data.testLimit
        return try limit.map { try d.prefix($0) } ?? d
    }
}

extension Trainer.Split: ExpressibleByArgument {}
