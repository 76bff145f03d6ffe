import Data
import Distributed
import NN
import Optim

extension Trainer {
    /// A run set up from Swift alone, with no `TrainingConfig`: any `Module`, data built in
    /// memory, a `Loss` (a closure or a built-in one) and an `Optimizer` (yours or a built-in
    /// one; its learning rate is the schedule's base). `train` holds epochs, batch size and the
    /// loop's settings, as the config's `train:` section does.
    ///
    /// Checkpoints, resume, exact mode and every `fit()` feature work as for a config run; the
    /// saved config.json records the model, data, loss and optimizer given from Swift as `swift`
    /// (with the data's source and the optimizer's name), so a resume checks that the same
    /// optimizer, seed, batch size and determinism continue.
    public convenience init(
        model: Module, data: TrainingData, loss: Loss = .crossEntropy, optimizer: Optimizer, train: TrainConfig,
        schedule: ScheduleSpec = .constant, clipGradNorm: Float? = nil, seed: UInt64 = 1,
        determinism: Determinism = .fast, checkpoint: CheckpointConfig = CheckpointConfig(),
        distributed: DistributedConfig = DistributedConfig(), name: String = "swift",
        communicator: Communicator, options: RunOptions = RunOptions()
    ) throws {
        let config = TrainingConfig(
            name: name, seed: seed, data: DataConfig(.swift(source: data.train.source)), model: [], loss: loss.spec,
            optimizer: OptimizerSpec(
                .swift(name: optimizer.name), lr: optimizer.learningRate, schedule: schedule,
                clipGradNorm: clipGradNorm),
            train: train, checkpoint: checkpoint, determinism: determinism, distributed: distributed)
        try self.init(
            model: model, data: data, config: config, communicator: communicator, options: options,
            optimizer: optimizer, loss: loss)
    }
}
