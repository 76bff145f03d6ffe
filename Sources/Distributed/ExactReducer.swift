import Tensor

/// Bit-reproducible gradient sums for any world size N dividing the number of virtual shards V
/// (both powers of two).
///
/// The global batch is cut into V fixed micro-shards; their gradients are added in one fixed
/// pairwise tree. Rank r holds micro-shards [r*V/N, (r+1)*V/N): a subtree, combined locally.
/// The cross-rank levels are a fixed-order reduce-scatter (each rank owns one slice of the flat
/// gradient, receives the N partial slices by alltoallv, adds them in tree order) followed by an
/// allgatherv of the slices: the traffic of a ring allreduce.
public final class ExactReducer {
    public let length: Int, virtualShards: Int
    let communicator: Communicator
    /// The micro-shards this rank computes.
    public let localShards: Range<Int>
    private var received: [Float]
    private let slices: [Int]

    /// A reducer for gradients of `length` values cut into `virtualShards` shards.
    public init(length: Int, virtualShards: Int, communicator: Communicator) {
        let n = communicator.size
        precondition(
            virtualShards > 0 && virtualShards & (virtualShards - 1) == 0,
            "ExactReducer: the shard count \(virtualShards) must be a power of two")
        precondition(
            n & (n - 1) == 0 && virtualShards % n == 0,
            "ExactReducer: ranks (\(n)) must be a power of two dividing the shard count (\(virtualShards))")
        self.length = length
        self.virtualShards = virtualShards
        self.communicator = communicator
        let per = virtualShards / n
        localShards = communicator.rank * per..<(communicator.rank + 1) * per
        slices = (0..<n).map { Partition.share(length, part: $0, parts: n).count }
        received = [Float](repeating: 0, count: slices[communicator.rank] * n)
    }

    /// Adds buffers of `n` floats pairwise (levels of stride 1, 2, 4, ...): the sum lands in
    /// `destination`, or in buffers[0] when there is none. The last level writes the destination
    /// directly, so no extra copy pass is needed.
    public static func treeSum(
        _ buffers: [UnsafeMutablePointer<Float>], _ n: Int,
        into destination: UnsafeMutablePointer<Float>? = nil
    ) {
        var stride = 1
        while stride < buffers.count {
            let last = 2 * stride >= buffers.count
            for i in Swift.stride(from: 0, to: buffers.count, by: 2 * stride) where i + stride < buffers.count {
                let a = buffers[i]
                let b = buffers[i + stride]
                let out = last ? (destination ?? a) : a
                for k in 0..<n { out[k] = a[k] + b[k] }
            }
            stride *= 2
        }
        if buffers.count == 1, let destination, destination != buffers[0] {
            destination.update(from: buffers[0], count: n)
        }
    }

    /// Sums the local micro-shard gradients (in micro-shard order) with every other rank's, in the
    /// fixed tree; the result lands in `locals[0]` on every rank.
    public func reduce(_ locals: [UnsafeMutablePointer<Float>]) throws {
        precondition(
            locals.count == localShards.count, "exact mode: expected \(localShards.count) micro-shard gradients")
        ExactReducer.treeSum(locals, length)
        let n = communicator.size
        guard n > 1 else { return }
        if n == 2 {
            // The last tree level is one addition per element, and a + b == b + a exactly: the
            // library's own allreduce gives the same bits, with fewer latency-bound phases.
            try communicator.at().allreduce(UnsafeMutableBufferPointer(start: locals[0], count: length))
            return
        }
        let root = locals[0]
        let me = communicator.rank
        let mine = slices[me]
        let offset = slices[..<me].reduce(0, +)
        try received.withUnsafeMutableBufferPointer { recv in
            // Every rank's partial of my slice, in rank order; my own stays where it is (no self-copy).
            var sendCounts = slices
            var recvCounts = [Int](repeating: mine, count: n)
            sendCounts[me] = 0
            recvCounts[me] = 0
            try communicator.alltoallv(
                root, sendCounts: sendCounts, sendOffsets: prefixSums(slices),
                recv.baseAddress!, recvCounts: recvCounts, recvOffsets: (0..<n).map { $0 * mine })
            let parts = (0..<n).map { $0 == me ? root + offset : recv.baseAddress! + $0 * mine }
            ExactReducer.treeSum(parts, mine, into: root + offset)
        }
        try communicator.at().allgatherv(root + offset, root, counts: slices)
    }
}
