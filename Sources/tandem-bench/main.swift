import Distributed
import Glibc
import Tensor

// tandem-bench: speed figures that the README and docs/ record. Run the release build:
//   OPENBLAS_NUM_THREADS=1 .build/release/tandem-bench [kernels]
let args = CommandLine.arguments.dropFirst()
let what = args.first ?? "kernels"
switch what {
case "kernels": kernelBench()
case "ops": opBench(threads: args.dropFirst().first.flatMap { Int($0) } ?? 2)
case "conv": convBench(threads: args.dropFirst().first.flatMap { Int($0) } ?? 1)
case "sgemm": sgemmProbe(args.dropFirst().compactMap { Int($0) })
case "dense": denseProbe(args.dropFirst().compactMap { Int($0) })
case "allreduce-at":
    do { try allreduceProbe(args.dropFirst().compactMap { Int($0) }) } catch {
        write(toStandardError: "tandem-bench: \(error)\n")
        exit(1)
    }
case "allreduce":
    do { try allreduceBench(maxKiB: args.dropFirst().compactMap { Int($0) }.first ?? 64 * 1024) } catch {
        write(toStandardError: "tandem-bench: \(error)\n")
        exit(1)
    }
default:
    write(
        toStandardError:
            "tandem-bench: unknown benchmark '\(what)'; available: kernels, ops [THREADS], conv [THREADS], "
            + "sgemm M K N, dense B W0 W1..., allreduce and allreduce-at FLOATS... (under mpirun)\n")
    exit(2)
}
