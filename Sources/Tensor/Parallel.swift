import CKernels

/// Tandem's own kernels on threads: work is cut into blocks of a fixed size, dealt to up to
/// `threads` threads of libgomp's team (oneDNN's runtime, so one pool serves both). A block's
/// result never depends on which thread ran it or how many there were, so every kernel run
/// through here gives the same bits on any thread count.
public enum Parallel {
    /// Threads the kernels use (process-wide; 1 unless set).
    public static var threads: Int { Int(tandem_get_threads()) }

    /// Sets the kernels' thread count (at least 1).
    public static func setThreads(_ n: Int) { tandem_set_threads(Int32(Swift.max(1, Swift.min(n, 1024)))) }

    /// Runs `body(begin, end)` for each block of `block` items of 0 ..< count, possibly at once
    /// on several threads: `body` must only write what its block owns. (On one thread the C side
    /// runs the blocks in order itself.)
    public static func forEachBlock(_ count: Int, block: Int, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        withoutActuallyEscaping(body) { f in
            var closure = f
            withUnsafeMutablePointer(to: &closure) { p in
                tandem_parallel_for(
                    count, block,
                    { context, begin, end in
                        context?.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(begin, end)
                    }, p)
            }
        }
    }

    /// Threads of oneDNN's products (its convolutions and matmuls, on the same team as the
    /// kernels): set with `setProductThreads`, otherwise OpenBLAS's count, as before threads
    /// were a setting.
    public static var productThreads: Int {
        let n = Int(tandem_get_product_threads())
        return n > 0 ? n : Swift.max(1, BLAS.threads)
    }

    /// Sets oneDNN's product threads (0: follow OpenBLAS's count again).
    public static func setProductThreads(_ n: Int) {
        tandem_set_product_threads(Int32(Swift.max(0, Swift.min(n, 1024))))
    }

    /// Cores this process may run on (its affinity mask: what mpirun's or Slurm's binding gave it).
    public static var allowedCores: Int { Int(tandem_allowed_cores()) }

    /// Items per block for elementwise passes: large enough that a block outweighs its dispatch.
    public static let elementBlock = 1 << 15
}
