import CMPI
import Distributed
import Glibc
import Tensor

/// `sgemm M K N`: raw OpenBLAS sgemm GFLOP/s on [M,K] x [K,N] (best of 7 rounds): the machine's
/// figure launch/bench puts next to a workload's.
func sgemmProbe(_ args: [Int]) {
    guard args.count == 3, args.allSatisfy({ $0 > 0 && $0 <= 16384 }) else {
        write(toStandardError: "tandem-bench: sgemm needs M K N, each 1...16384\n")
        exit(2)
    }
    let (m, k, n) = (args[0], args[1], args[2])
    let a = Tensor.randomUniform([m, k], seed: 1)
    let b = Tensor.randomUniform([k, n], seed: 2)
    let c = Tensor(zeros: [m, n])
    let t = race([{ BLAS.openBLASGemm(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n) }])[0]
    print("sgemm \(m)x\(k)x\(n) \(fmt(2.0 * Double(m * k * n) / t / 1e9)) GFLOP/s")
}

/// `allreduce-at FLOATS...` under mpirun: median seconds of one raw in-place MPI_Allreduce of
/// each size (a workload's whole gradient), one line per size on rank 0.
func allreduceProbe(_ sizes: [Int]) throws {
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= 1 << 28 }) else {
        write(toStandardError: "tandem-bench: allreduce-at needs float counts, each 1...2^28\n")
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

/// `dense BATCH W0 W1 ... Wk`: GFLOP/s of a dense network's training GEMMs at this batch, laid out
/// as Tandem's Linear lays them (y = x W^T, dx = dy W, dW = dy^T x; no dx for the first layer),
/// on raw OpenBLAS and as `BLAS.gemm` dispatches them (oneDNN for large products): the machine's
/// figures for a workload's whole step, not one friendly shape.
func denseProbe(_ args: [Int]) {
    guard args.count >= 3, args.allSatisfy({ $0 > 0 && $0 <= 16384 }) else {
        write(toStandardError: "tandem-bench: dense needs BATCH and at least two widths, each 1...16384\n")
        exit(2)
    }
    let batch = args[0]
    let widths = Array(args.dropFirst())
    let layers = (0..<widths.count - 1).map { (widths[$0], widths[$0 + 1]) }
    let weights = layers.map { Tensor.randomUniform([$0.1, $0.0], seed: 1) }
    let acts = widths.map { Tensor.randomUniform([batch, $0], seed: 2) }
    let grads = widths.map { Tensor.randomUniform([batch, $0], seed: 3) }
    let wgrads = layers.map { Tensor(zeros: [$0.1, $0.0]) }
    var flops = 0.0
    for (l, (i, o)) in layers.enumerated() { flops += 2.0 * Double(batch * i * o) * (l == 0 ? 2 : 3) }
    typealias Gemm = (
        Bool, Bool, Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float,
        UnsafeMutablePointer<Float>, Int
    ) -> Void
    func step(_ gemm: Gemm) {
        for (l, (i, o)) in layers.enumerated() {
            gemm(false, true, batch, o, i, acts[l].data, i, weights[l].data, i, 0, acts[l + 1].data, o)
        }
        for (l, (i, o)) in layers.enumerated().reversed() {
            gemm(true, false, o, i, batch, grads[l + 1].data, o, acts[l].data, i, 1, wgrads[l].data, i)
            if l > 0 { gemm(false, false, batch, i, o, grads[l + 1].data, o, weights[l].data, i, 0, grads[l].data, i) }
        }
    }
    let times = race([
        {
            step {
                BLAS.openBLASGemm(
                    transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, beta: $9, c: $10,
                    ldc: $11)
            }
        },
        {
            step {
                BLAS.gemm(
                    transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, beta: $9, c: $10,
                    ldc: $11)
            }
        },
    ])
    print(
        "dense \(args.map(String.init).joined(separator: " ")) OpenBLAS \(fmt(flops / times[0] / 1e9)) GFLOP/s, "
            + "dispatched \(fmt(flops / times[1] / 1e9)) GFLOP/s")
}
