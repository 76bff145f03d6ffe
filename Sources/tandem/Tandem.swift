import ArgumentParser

/// The `tandem` command: one subcommand per file.
@main
struct TandemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Data-parallel deep-learning training in Swift, on MPI.",
        discussion: """
            Train alone (one process, no MPI needed) or under mpirun (one rank per process):
              tandem train --config configs/fashion-mlp.yaml
              mpirun -np 4 tandem train --config configs/fashion-mlp.yaml
            """,
        version: "tandem 0.1.0",
        subcommands: [Train.self, Eval.self, Predict.self, Inspect.self, Plot.self]
    )
}
