import ArgumentParser
import Distributed
import Foundation

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
        subcommands: [Train.self, Eval.self, Predict.self, Generate.self, Inspect.self, Plot.self, Export.self]
    )

    /// Argument mistakes are one `tandem:` line and exit 2, like config mistakes (ArgumentParser
    /// would print three lines and exit 64); --help and --version print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let text = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            write(toStandardError: "tandem: \(text) (see tandem --help)\n")
            Foundation.exit(2)
        }
    }
}
