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

    @Option(help: "A checkpoint folder (runs/NAME/checkpoints/step-N).") var checkpoint: String
    @Option(help: "test or train.") var split: String = "test"

    func validate() throws {
        guard split == "test" || split == "train" else { throw ValidationError("--split must be test or train, got '\(split)'") }
    }

    func run() throws {
        var comm: Communicator?
        do {
            let c = try Launch.communicator(timeout: 300)
            comm = c
            let m = try CheckpointModel(path: checkpoint, communicator: c)
            let sums = try m.trainer.evaluate(split: split == "train" ? .train : .test)
            if c.rank == 0 {
                var fields = ["\"checkpoint\":\"\(checkpoint)\"", "\"split\":\"\(split)\"", "\"loss\":\(sums.meanLoss)"]
                if m.trainer.data.test.classCount != nil { fields.append("\"accuracy\":\(sums.accuracy)") }
                fields.append("\"samples\":\(Int(sums.count))")
                print("{" + fields.joined(separator: ",") + "}")
            }
            Launch.finish(c)
        } catch {
            Launch.fail(error, comm: comm)
        }
    }
}
