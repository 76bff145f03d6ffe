import Foundation
import Tandem

/// A trained model rebuilt from a checkpoint: its config (from trainer.json), data and weights.
struct CheckpointModel {
    let path: String
    let config: TrainingConfig
    let trainer: Trainer

    /// Reads and verifies the checkpoint on every rank (it is small) and builds the model.
    init(path: String, communicator: Communicator) throws {
        let ck = try Checkpoint.read(path)
        config = try TrainingConfig.parse(ck.manifest.config.value, file: path + "/trainer.json")
        var options = RunOptions(quiet: true)
        options.configFile = path + "/trainer.json"
        options.evaluationOnly = true
        trainer = try Trainer(config: config, communicator: communicator, options: options)
        try trainer.model.load(ck.model.tensors, source: path + "/model.safetensors")
        self.path = path
    }
}
