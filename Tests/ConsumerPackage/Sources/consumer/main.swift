// A user's program written against Tandem's public API: a custom layer, loss, optimizer and
// dataset (Parts.swift), trained by a custom data-parallel loop and by the Trainer.
//   consumer loop fast|exact STEPS OUT.safetensors [--save-at K DIR] [--resume DIR]
//   consumer trainer fast|exact STEPS RUN_DIR [--resume]
//   consumer diff A.safetensors B.safetensors       (largest absolute difference)
// Run alone or under mpirun; launch/consumer-test checks what they print and write.
import Foundation
import Tandem

let globalBatch = 32
let data = try Dataset(source: Spirals(count: 600, seed: 3), name: "spirals")

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("consumer: \(message)\n".utf8))
    exit(1)
}

func option(_ name: String, in args: [String]) -> String? {
    args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

func reduction(_ mode: String) -> DataParallel.Reduction {
    // Tiny buckets in fast mode: several of them, reduced while backward runs.
    mode == "exact" ? .exact(virtualShards: 4) : .fast(bucketMB: 0.001)
}

/// The custom loop: DataParallel reduces, the custom optimizer updates, rank 0 writes the
/// checkpoint (weights and optimizer state) itself.
func customLoop(_ args: [String]) throws {
    guard args.count >= 3, let steps = Int(args[1]) else { fail("loop fast|exact STEPS OUT ...") }
    let comm = try makeCommunicator(timeout: 120)
    let model = makeModel(seed: 7)
    let optimizer = ClippedMomentum(model.namedParameters, learningRate: 0.05)
    var start = 0
    if let dir = option("--resume", in: args) {
        try model.loadWeights(from: dir + "/model.safetensors")
        let state = try Safetensors.read(dir + "/optimizer.safetensors")
        try optimizer.loadStateDict(state.tensors, metadata: state.metadata, source: dir)
        start = optimizer.stepCount
    }
    let parallel = try DataParallel(model: model, communicator: comm, reduction: reduction(args[0]))
    let builder = BatchBuilder(dataset: data, preprocessing: Preprocessing(), seed: 3)
    let perEpoch = data.count / globalBatch
    let saveAt = args.firstIndex(of: "--save-at").flatMap { i in
        i + 2 < args.count ? Int(args[i + 1]).map { ($0, args[i + 2]) } : nil
    }
    for step in start..<steps {
        let epoch = step / perEpoch
        let offset = (step % perEpoch) * globalBatch
        let ids = Array(Permutation.shuffled(count: data.count, seed: 3, epoch: epoch)[offset..<offset + globalBatch])
        var local = 0.0
        let gradients = try parallel.gradients(globalBatch: ids.count) { pass in
            let batch = builder.make(ids: Array(ids[pass.rows]), epoch: epoch, augment: false)
            let loss = smoothedCrossEntropy(model(batch.x), batch)
            local += Double(loss.item)
            return loss
        }
        if step == 0 && comm.size == 1 { try checkFunctionalGradients(model, ids: ids, builder: builder, gradients) }
        guard gradients.isFinite else { fail("non-finite gradients at step \(step)") }
        optimizer.update(gradients)
        let loss = try comm.allreduce([local])[0] / Double(ids.count)
        if comm.rank == 0 && (step + 1) % 20 == 0 { print("step \(step + 1) loss \(String(format: "%.5f", loss))") }
        if comm.rank == 0, let (k, dir) = saveAt, k == step + 1 {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try model.saveWeights(to: dir + "/model.safetensors")
            let state = optimizer.stateDict()
            try Safetensors.write(state.tensors, metadata: state.metadata, to: dir + "/optimizer.safetensors")
        }
    }
    if comm.rank == 0 { try model.saveWeights(to: args[2]) }
    parallel.detach()
    comm.finalize()
}

/// On one rank the reduced gradient is the plain gradient of the mean loss: `valueAndGradients`
/// must agree (to rounding), and must leave the DataParallel's buffers and hooks working.
func checkFunctionalGradients(_ model: Module, ids: [Int], builder: BatchBuilder, _ reduced: Gradients) throws {
    let batch = builder.make(ids: ids, epoch: 0, augment: false)
    let (value, plain) = valueAndGradients(of: model) {
        smoothedCrossEntropy(model(batch.x), batch) * (1 / Float(ids.count))
    }
    guard value.isFinite, plain.names == reduced.names else { fail("valueAndGradients: \(plain.names)") }
    for (name, g) in plain.named {
        let r = reduced[name]!.scalars
        let worst = zip(g.scalars, r).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
        guard worst < 1e-4 else { fail("valueAndGradients: \(name) differs by \(worst) (relative)") }
    }
    print("valueAndGradients agrees with DataParallel on one rank (loss \(String(format: "%.5f", value)))")
}

/// The Trainer without a TrainingConfig: the same custom parts, a test split from Swift arrays,
/// checkpoints and resume in RUN_DIR.
func trainer(_ args: [String]) throws {
    guard args.count >= 3, let steps = Int(args[1]) else { fail("trainer fast|exact STEPS RUN_DIR [--resume]") }
    let comm = try makeCommunicator(timeout: 120)
    let model = makeModel(seed: 7)
    let testSource = Spirals(count: 150, seed: 9)
    var features = [Float](repeating: 0, count: 150 * 2)
    for i in 0..<150 {
        features.withUnsafeMutableBufferPointer { testSource.loadSample(i, into: $0.baseAddress! + 2 * i) }
    }
    let test = try Dataset(
        features: .floats(features), targets: testSource.targets, sampleShape: [2], source: "spiral arrays")
    var train = TrainConfig(epochs: 1000, batchSize: globalBatch)
    train.maxSteps = steps
    train.logEverySteps = 10
    var checkpoint = CheckpointConfig()
    checkpoint.everySteps = 10
    let run = try Trainer(
        model: model, data: TrainingData(train: data, test: test), loss: smoothedCrossEntropy,
        optimizer: ClippedMomentum(model.namedParameters, learningRate: 0.05), train: train,
        determinism: args[0] == "exact" ? .exact(virtualShards: 4) : .fast, checkpoint: checkpoint,
        communicator: comm,
        options: RunOptions(runDirectory: args[2], resume: args.contains("--resume") ? "auto" : nil, quiet: true))
    let result = try run.fit()
    if comm.rank == 0 {
        try model.saveWeights(to: args[2] + "/final.safetensors")
        print("trainer: \(result.steps) steps, test accuracy \(String(format: "%.4f", result.test?.accuracy ?? 0))")
    }
    comm.finalize()
}

func diff(_ args: [String]) throws {
    guard args.count == 2 else { fail("diff A B") }
    let (a, b) = (try Safetensors.read(args[0]), try Safetensors.read(args[1]))
    guard a.tensors.map(\.name) == b.tensors.map(\.name) else { fail("different tensors") }
    var worst: Float = 0
    for (x, y) in zip(a.tensors, b.tensors) {
        for (u, v) in zip(x.tensor.scalars, y.tensor.scalars) { worst = max(worst, abs(u - v)) }
    }
    print(worst)
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "loop": try customLoop(Array(args.dropFirst()))
    case "trainer": try trainer(Array(args.dropFirst()))
    case "diff": try diff(Array(args.dropFirst()))
    default: fail("usage: consumer loop|trainer|diff ...")
    }
} catch {
    fail("\(error)")
}
