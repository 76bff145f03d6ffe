import Glibc

/// SIGTERM, SIGINT and SIGUSR1 only raise a flag; the training loop polls it at each step boundary
/// and all ranks agree on it through one allreduce, so they stop at the same step and checkpoint.
/// SIGUSR1 is the one `mpirun` passes on to its ranks and keeps running (on SIGTERM it aborts the
/// job), and what Slurm's `--signal` sends by default (Lightning stops on it too).
public enum StopSignal {
    /// One word a signal handler may write (the only thing a handler may safely do); read at step
    /// boundaries. A raw pointer, not a Swift global, so the handler touches no Swift runtime.
    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// Installs the handlers (idempotent).
    public static func install() {
        _ = flag
        let handler: @convention(c) (Int32) -> Void = { sig in StopSignal.flag.pointee = sig }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        signal(SIGUSR1, handler)
    }

    /// The name of a stop signal, for messages.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGUSR1: "SIGUSR1"
        default: "SIGTERM"
        }
    }

    /// The signal received, or 0.
    public static var received: Int32 { flag.pointee }

    /// Asks the loop to stop as if a signal had arrived (tests, embedding apps).
    public static func request() { flag.pointee = SIGTERM }

    /// Clears the flag.
    public static func reset() { flag.pointee = 0 }
}
