import Foundation
import Tensor

extension MPICommunicator {
    /// Whether this process was started by mpirun/mpiexec (or a Slurm PMI launcher).
    public static var isLaunchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }
}

/// The communicator for how this process was started: MPI under mpirun or Slurm, otherwise a
/// world of one with no MPI at all. `timeoutSetting` names the timeout in messages.
public func makeCommunicator(timeout: Double, timeoutSetting: String = "the collective timeout") throws -> Communicator
{
    guard MPICommunicator.isLaunchedByMPI else { return LocalCommunicator() }
    // One BLAS thread per rank unless the user chose otherwise: ranks already use every core.
    if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { BLAS.setThreads(1) }
    return try MPICommunicator(timeout: timeout, timeoutSetting: timeoutSetting)
}
