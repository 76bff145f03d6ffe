import CMPI
import Distributed
import Glibc
import Tensor

/// `sgemm M K N`: raw OpenBLAS sgemm GFLOP/s on [M,K] x [K,N] (best of 7 rounds): the machine's
/// figure launch/bench puts next to a workload's.
func sgemmProbe(_ args: [Int]) {
    guard args.count == 3, args.allSatisfy({ $0 > 0 && $0 <= 16384 }) else {
        fputs("tandem-bench: sgemm needs M K N, each 1...16384\n", stderr)
        exit(2)
    }
    let (m, k, n) = (args[0], args[1], args[2])
    let a = Tensor.randomUniform([m, k], seed: 1)
    let b = Tensor.randomUniform([k, n], seed: 2)
    let c = Tensor(zeros: [m, n])
    let t = race([{ BLAS.gemm(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n) }])[0]
    print("sgemm \(m)x\(k)x\(n) \(fmt(2.0 * Double(m * k * n) / t / 1e9)) GFLOP/s")
}

/// `allreduce-at FLOATS...` under mpirun: median seconds of one raw in-place MPI_Allreduce of
/// each size (a workload's whole gradient), one line per size on rank 0.
func allreduceProbe(_ sizes: [Int]) throws {
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= 1 << 28 }) else {
        fputs("tandem-bench: allreduce-at needs float counts, each 1...2^28\n", stderr)
        exit(2)
    }
    let comm = try MPICommunicator(timeout: 300)
    defer { comm.finalize() }
    for count in sizes {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        defer { buffer.deallocate() }
        let reps = max(5, min(500, 50_000_000 / count))
        var times: [Double] = []
        for _ in 0..<7 {
            try comm.barrier()
            let t0 = now()
            for _ in 0..<reps {
                _ = MPI_Allreduce(
                    cmpi_in_place(), buffer.baseAddress, Int32(count), cmpi_float(), cmpi_sum(), cmpi_comm_world())
            }
            times.append(try comm.allreduce([now() - t0])[0] / Double(comm.size) / Double(reps))
        }
        if comm.rank == 0 { print("allreduce \(count) floats \(times.sorted()[3]) s") }
    }
}
