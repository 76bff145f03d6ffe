import CommChecks
import Distributed
import Glibc

// Run under mpirun by launch/test:
//   tandem-mpi-check collectives   every collective, buckets and exact mode; exit 1 on failure
//   tandem-mpi-check skip          rank 1 skips a collective: rank 0's watchdog must end the job
//   tandem-mpi-check schedule      debug-mode check: ranks call different collectives
let mode = CommandLine.arguments.dropFirst().first ?? "collectives"
do {
    switch mode {
    case "collectives":
        let comm = try MPICommunicator(timeout: 60)
        let failures = try CommChecks.all(comm)
        for f in failures { write(toStandardError: "FAIL \(f)\n") }
        let anyFailed = try comm.allreduce([failures.isEmpty ? 0 : 1])[0] > 0
        if comm.rank == 0 {
            print(anyFailed ? "collectives: FAILED on \(comm.size) ranks" : "collectives: ok on \(comm.size) ranks")
        }
        comm.finalize()
        exit(anyFailed ? 1 : 0)
    case "skip":
        let comm = try MPICommunicator(timeout: 2)
        if comm.rank == 1 {
            sleep(60)
            exit(0)
        }  // never joins the allreduce below
        _ = try comm.allreduce([1.0])
        print("skip: the allreduce completed, which it must not")
        exit(0)
    case "schedule":
        let comm = CheckedCommunicator(try MPICommunicator(timeout: 30))
        if comm.rank == 0 { try comm.at().barrier() } else { _ = try comm.at().allreduce([1.0]) }
        print("schedule: mismatch not detected")
        exit(0)
    default:
        write(toStandardError: "tandem-mpi-check: unknown mode \(mode)\n")
        exit(2)
    }
} catch {
    write(toStandardError: "tandem-mpi-check: \(error)\n")
    exit(1)
}
