import ArgumentParser
import Foundation
import Tandem

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on its configured data; prints one JSON object.",
        discussion: """
            Examples:
              tandem eval --checkpoint runs/fashion-mlp/checkpoints/step-00004685
              mpirun -np 2 tandem eval --checkpoint runs/fashion-mlp/checkpoints/step-00004685 --split train
            """)

    @OptionGroup var source: CheckpointOptions
    @Option(help: "The split to evaluate: test, validation or train.") var split: Trainer.Split = .test

    func run() throws {
        var comm: Communicator?
        do {
            let c = try Launch.communicator(timeout: 300)
            comm = c
            let m = try CheckpointModel(path: source.checkpoint)
            let data = try m.dataset(split)
            let evaluator = Evaluator(
                model: m.model, loss: (m.config.loss ?? .crossEntropy).loss, communicator: c,
                blockSize: m.config.train.evalBatchSize)
            let sums = try evaluator.evaluate(
                BatchBuilder(dataset: data, preprocessing: m.input.preprocessing, seed: m.config.seed))
            if c.rank == 0 {
                let result = Result(
                    checkpoint: source.checkpoint, split: split.rawValue, loss: sums.meanLoss,
                    accuracy: data.classCount != nil ? sums.accuracy : nil, samples: Int(sums.count))
                print(String(decoding: try JSONEncoder.sorted.encode(result), as: UTF8.self))
            }
            Launch.finish(c)
        } catch {
            Launch.fail(error, comm: comm)
        }
    }

    /// The printed JSON: a non-finite loss or accuracy is null (JSON has no NaN).
    struct Result: Encodable {
        let checkpoint: String, split: String
        let loss: Double?, accuracy: Double?, samples: Int
        /// Classification results carry accuracy (null if not finite); regression ones do not.
        let classification: Bool
        init(checkpoint: String, split: String, loss: Double, accuracy: Double?, samples: Int) {
            self.checkpoint = checkpoint
            self.split = split
            self.loss = loss.isFinite ? loss : nil
            self.accuracy = accuracy.flatMap { $0.isFinite ? $0 : nil }
            self.classification = accuracy != nil
            self.samples = samples
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(checkpoint, forKey: .checkpoint)
            try c.encode(split, forKey: .split)
            try c.encode(loss, forKey: .loss)  // null, not absent, when not finite
            if classification { try c.encode(accuracy, forKey: .accuracy) }
            try c.encode(samples, forKey: .samples)
        }
        enum CodingKeys: String, CodingKey { case checkpoint, split, loss, accuracy, samples }
    }
}

extension JSONEncoder {
    /// Sorted keys, no escaped slashes: output people and tools read.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
