import Foundation
import Glibc
import Tandem

/// Which communicator a command runs on, and how failures end the process.
enum Launch {
    /// This process's rank before MPI is up (from the launcher's environment), to print once.
    static var launcherRank: Int {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"].compactMap { env[$0].flatMap(Int.init) }.first ?? 0
    }

    /// MPI under mpirun, otherwise a world of one with no MPI at all.
    static func communicator(timeout: Double) throws -> Communicator {
        try makeCommunicator(timeout: timeout, timeoutSetting: "distributed.timeout_s")
    }

    /// Ends MPI cleanly where there is one.
    static func finish(_ comm: Communicator) { comm.finalize() }

    /// Prints one line for `error` (rank 0 only for errors every rank shares) and exits:
    /// code 2 for config and argument mistakes, 1 otherwise. Errors only this rank saw end the
    /// whole job through MPI_Abort, so mpirun never waits.
    static func fail(_ error: Error, comm: Communicator?) -> Never {
        let shared = error is ConfigError || error is TrainerError || error is DataError || error is WeightsMismatch
        let code: Int32 = error is ConfigError ? 2 : 1
        var text = "\(error)"
        if !text.hasPrefix("tandem") { text = "tandem: " + text }
        text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        if let comm, comm.size > 1, !shared { comm.abort(code: code, message: text) }
        if (comm?.rank ?? launcherRank) == 0 { write(toStandardError: text + "\n") }
        if let comm { finish(comm) }
        exit(code)
    }
}
