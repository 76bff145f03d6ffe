import ArgumentParser
import Foundation
import Tandem

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model described by a YAML config.",
        discussion: """
            Examples:
              tandem train --config configs/fashion-mlp.yaml
              mpirun -np 2 tandem train --config configs/fashion-cnn.yaml --set train.epochs=1
              tandem train --config configs/fashion-mlp.yaml --resume auto
              tandem train --config configs/fashion-mlp.yaml --debug --simulate-ranks 4
            """)

    @Option(help: "The YAML config file.") var config: String
    @Option(help: "Where metrics, checkpoints and the resolved config go (default: runs/<config name>).") var runDir:
        String?
    @Option(help: "'auto' (newest valid checkpoint in the run directory) or a checkpoint folder.") var resume: String?
    @Option(help: "Initial weights: a safetensors file with PyTorch names and layouts.") var initFrom: String?
    @Option(
        name: .customLong("set"), help: "Override a config key by its dotted path, e.g. optimizer.lr=0.01 (repeatable)."
    )
    var overrides: [String] = []
    @Flag(help: "Debug mode: replica hash checks, collective schedule checks, the op behind a NaN.") var debug = false
    @Option(help: "Run N ranks as threads of this process (with --debug: reproduce an N-rank run under a debugger).")
    var simulateRanks: Int?
    @Flag(help: "Start over: delete the run directory's checkpoints and metrics first.") var fresh = false
    @Flag(help: "No progress output.") var quiet = false
    @Option(
        help: "Lowest level of the trainer's messages printed on stderr: trace, debug, info, notice, warning, error.")
    var logLevel: LogLevelOption = .notice

    func validate() throws {
        if let n = simulateRanks, n < 1 || n > 256 {
            throw ValidationError("--simulate-ranks must be between 1 and 256, got \(n)")
        }
        if resume != nil && initFrom != nil { throw ValidationError("--resume and --init-from exclude each other") }
        if resume != nil && fresh { throw ValidationError("--resume and --fresh exclude each other") }
    }

    func run() throws {
        // From the first moment: a SIGTERM while the data loads (a scheduler's stop) must not
        // kill the process; the first step sees it and stops with a checkpoint.
        StopSignal.install()
        logLevel.bootstrap()
        var comm: Communicator?
        do {
            let cfg = try ConfigLoading.load(config, overrides: overrides)
            let dir = runDir ?? "runs/\(cfg.name)"
            try checkRunDirectory(RunFolder(dir))
            var options = RunOptions(runDirectory: dir, resume: resume, initFrom: initFrom, debug: debug, quiet: quiet)
            options.command = CommandLine.arguments.joined(separator: " ")
            options.configFile = config
            if let n = simulateRanks {
                if MPICommunicator.isLaunchedByMPI { throw ValidationError("--simulate-ranks runs without mpirun") }
                let options = options  // the ranks' threads share a constant copy
                try SimulatedWorld.run(
                    size: n, timeout: cfg.distributed.timeoutS, timeoutSetting: "distributed.timeout_s"
                ) { raw in
                    let c: Communicator = debug ? CheckedCommunicator(raw) : raw
                    var o = options
                    o.quiet = quiet || c.rank != 0
                    try Trainer(config: cfg, communicator: c, options: o).fit()
                }
                return
            }
            let raw = try Launch.communicator(timeout: cfg.distributed.timeoutS)
            let c: Communicator = debug ? CheckedCommunicator(raw) : raw
            comm = c
            try Trainer(config: cfg, communicator: c, options: options).fit()
            Launch.finish(c)
        } catch let e as ValidationError {
            throw e
        } catch {
            Launch.fail(error, comm: comm)
        }
    }

    /// A new run must not silently mix with an old one's checkpoints.
    func checkRunDirectory(_ folder: RunFolder) throws {
        if fresh {
            // Rank 0 clears; the others must not judge the folder while it does.
            if Launch.launcherRank == 0 {
                folder.clear { write(toStandardError: "tandem: warning: --fresh \($0)\n") }
            }
        } else if resume == nil && !folder.checkpointCandidates.isEmpty {
            throw ConfigError(
                file: folder.path, path: "",
                message:
                    "this run directory already holds checkpoints: add --resume auto to continue it, --fresh to "
                    + "start over, or --run-dir for a new one"
            )
        }
    }
}
