// A custom model trained from Swift code, data-parallel under mpirun:
//   swift build -c release --product tandem-example
//   mpirun -np 2 .build/release/tandem-example            (or without mpirun: one process)
// Optional argument: the number of steps (default: 2 epochs).
import Foundation
import Tandem

/// A residual MLP block, y = x + W2 relu(W1 x): any `Module` can be trained.
final class Residual: Module {
    let inner: Linear, outer: Linear
    var isTraining = true
    init(width: Int, hidden: Int, key: InitKey) {
        inner = Linear(inFeatures: width, outFeatures: hidden, key: InitKey(seed: key.seed, layer: key.layer))
        outer = Linear(inFeatures: hidden, outFeatures: width, key: InitKey(seed: key.seed, layer: key.layer + 100))
    }
    var children: [(name: String, module: Module)] { [("inner", inner), ("outer", outer)] }
    func callAsFunction(_ x: Tensor) -> Tensor { x + outer(inner(x).relu()) }
    func outputShape(for input: [Int]) throws -> [Int] { input }
}

let comm = try makeCommunicator(timeout: 300)  // MPI under mpirun, one process otherwise
let model = Sequential(
    Flatten(), Linear(inFeatures: 784, outFeatures: 256, key: InitKey(seed: 7, layer: 1)), ReLU(),
    Residual(width: 256, hidden: 128, key: InitKey(seed: 7, layer: 3)),
    Linear(inFeatures: 256, outFeatures: 10, key: InitKey(seed: 7, layer: 4)))
let data = TrainingData(
    train: try MNISTFamily.load(train: true), test: try MNISTFamily.load(train: false),
    preprocessing: Preprocessing(mean: 0.286, std: 0.353))

var train = TrainConfig(epochs: 2, batchSize: 128)
train.maxSteps = CommandLine.arguments.dropFirst().first.flatMap(Int.init)

// No TrainingConfig: the model, data, loss and optimizer are Swift values.
let trainer = try Trainer(
    model: model, data: data, loss: .crossEntropy, optimizer: Adam.adamW(model.namedParameters, learningRate: 1e-3),
    train: train, seed: 7, communicator: comm, options: RunOptions(quiet: true))
let rank = comm.rank
trainer.onEvent = { event in  // custom logging, on rank 0 only
    guard rank == 0 else { return }
    switch event {
    case .train(let r):
        print("step \(r.step): loss \(String(format: "%.4f", r.loss)), \(Int(r.samplesPerSecond ?? 0)) samples/s")
    case .test(let r): print("test after step \(r.step): accuracy \(String(format: "%.4f", r.accuracy ?? 0))")
    default: break
    }
}
try trainer.fit()
if comm.rank == 0 {
    print("parameters: \(model.namedParameters.map(\.name).joined(separator: ", "))")
    let logits = trainer.predict(
        BatchBuilder(dataset: data.test, preprocessing: data.preprocessing, seed: 0)
            .make(ids: [0, 1, 2], epoch: 0, augment: false).x)
    print("first three test predictions: \(logits.argmax(alongAxis: 1))")
}
comm.finalize()
