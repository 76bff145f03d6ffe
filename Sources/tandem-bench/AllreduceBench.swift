import CMPI
import Distributed
import Glibc

/// Under `mpirun -np 2`: Tandem's allreduce (watchdog, error checks) against raw MPI_Allreduce on
/// the same buffers, and exact mode's reduce-scatter + allgather against plain allreduce; sizes
/// from 4 KiB to `maxKiB` by factors of 4.
func allreduceBench(maxKiB: Int) throws {
    let comm = try MPICommunicator(timeout: 300)
    defer { comm.finalize() }
    if comm.rank == 0 {
        print("Allreduce on \(comm.size) ranks: median seconds per call over alternating rounds")
        print(
            pad("size", 10) + pad("raw MPI", 12) + pad("Tandem", 12) + pad("overhead", 10) + pad("exact", 12)
                + "exact/raw")
    }
    var kib = 4
    while kib <= maxKiB {
        let count = kib * 1024 / 4
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        defer { buffer.deallocate() }
        let reps = max(3, min(2000, 20_000 / kib))
        let exact = ExactReducer(length: count, virtualShards: comm.size, communicator: comm)
        var raw: [Double] = []
        var ours: [Double] = []
        var ex: [Double] = []
        func time(_ body: () throws -> Void) throws -> Double {
            try comm.barrier()
            let t0 = now()
            for _ in 0..<reps { try body() }
            // The slowest rank's time is the collective's time.
            return try comm.allreduce([now() - t0])[0] / Double(comm.size) / Double(reps)
        }
        for _ in 0..<7 {
            raw.append(
                try time {
                    _ = MPI_Allreduce(
                        cmpi_in_place(), buffer.baseAddress, Int32(count), cmpi_float(), cmpi_sum(), cmpi_comm_world())
                })
            ours.append(try time { try comm.allreduce(buffer) })
            ex.append(try time { try exact.reduce([buffer.baseAddress!]) })
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let r = median(raw)
        let o = median(ours)
        let e = median(ex)
        if comm.rank == 0 {
            let size = kib >= 1024 ? "\(kib / 1024) MiB" : "\(kib) KiB"
            print(
                pad(size, 10) + pad(sci(r), 12) + pad(sci(o), 12) + pad(fmt((o / r - 1) * 100, 1) + "%", 10)
                    + pad(sci(e), 12) + fmt(e / r, 2))
        }
        kib *= 4
    }
}

func sci(_ x: Double) -> String {
    if x >= 1e-3 { return fmt(x * 1e3, 3) + " ms" }
    return fmt(x * 1e6, 1) + " us"
}
