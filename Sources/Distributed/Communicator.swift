/// A failed or stalled collective: which call, on which rank, and why.
public struct CommError: Error, CustomStringConvertible {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// The collective that failed.
    public let call: String
    /// What the library or the watchdog said.
    public let message: String
    /// An error of `call` on `rank`.
    public init(rank: Int, call: String, message: String) {
        self.rank = rank
        self.call = call
        self.message = message
    }
    /// The message as one line.
    public var description: String { "rank \(rank): \(call) failed: \(message)" }
}

/// An in-flight non-blocking collective.
public protocol CommRequest: AnyObject {
    /// Whether it has completed; also drives progress (Open MPI progresses only inside calls).
    func test() throws -> Bool
    /// Blocks until it completes (under the watchdog).
    func wait() throws
}

/// The collectives data-parallel training needs. Reductions are sums, in place. Buffers are raw
/// so no MPI type, and no copy, crosses this interface.
public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }
    /// A short name for logs: "mpi", "local", "simulated".
    var kind: String { get }

    /// Waits until every rank arrives.
    func barrier() throws
    /// Copies root's bytes into every rank's buffer.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Sums Float32 buffers across ranks, in place.
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Sums Float64 buffers across ranks, in place (metrics, flags).
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Starts a non-blocking in-place Float32 sum; the buffer must stay untouched until done.
    func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest
    /// Sums bfloat16 values (`BFloat16` bit patterns) across ranks, in place, each addition
    /// rounded to bfloat16 (compressed gradients). By default through `allgather`, in rank order.
    func allreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws
    /// Starts a non-blocking `allreduceBFloat16` (by default: does it now, returns it completed).
    func startAllreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws -> CommRequest
    /// Gathers every rank's `send` bytes into `recv` (size * send.count bytes), in rank order.
    func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws
    /// Sends `sendCounts[k]` floats from `send + sendOffsets[k]` to rank k and receives
    /// `recvCounts[k]` floats from rank k at `recv + recvOffsets[k]`.
    func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]) throws
    /// Gathers `counts[k]` floats from rank k into consecutive blocks of `recv`.
    func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws
    /// Ends the whole job (every rank) with `code` after printing `message` on stderr.
    func abort(code: Int32, message: String) -> Never
    /// Records where the next collective is called from (used by the debug-mode schedule check).
    func noteCallSite(_ file: StaticString, _ line: UInt)
    /// Ends this process's part in the job cleanly (MPI_Finalize for MPI; nothing otherwise).
    func finalize()
}

extension Communicator {
    /// Records the caller's file and line for the schedule check's messages.
    public func noteCallSite(_ file: StaticString, _ line: UInt) {}
    /// Shuts the communicator down (MPI_Finalize for MPI).
    public func finalize() {}

    /// This communicator, with the caller's file and line noted for the debug-mode schedule check:
    /// `comm.at().allreduce(buffer)`.
    @inline(__always)
    public func at(_ file: StaticString = #fileID, _ line: UInt = #line) -> Communicator {
        noteCallSite(file, line)
        return self
    }
}

extension Communicator {
    /// Sums a small array of Float64 across ranks (metrics, flags).
    public func allreduce(_ values: [Double]) throws -> [Double] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try allreduce($0) }
        return v
    }

    /// Broadcasts a tensor-sized Float32 buffer from root.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws {
        try broadcast(UnsafeMutableRawBufferPointer(buffer), root: root)
    }

    /// alltoallv with consecutive blocks on both sides.
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int]
    ) throws {
        try alltoallv(
            send, sendCounts: sendCounts, sendOffsets: prefixSums(sendCounts),
            recv, recvCounts: recvCounts, recvOffsets: prefixSums(recvCounts))
    }

    /// Gathers every rank's values and adds them in rank order, rounding each sum to bfloat16:
    /// the same result on every rank (communicators without a bfloat16 reduction).
    public func allreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        guard size > 1, let base = buffer.baseAddress else { return }
        let n = buffer.count
        var all = [UInt16](repeating: 0, count: n * size)
        try all.withUnsafeMutableBytes { try allgather(UnsafeRawBufferPointer(buffer), into: $0) }
        all.withUnsafeBufferPointer { a in
            for i in 0..<n {
                var s = a[i]
                for r in 1..<size { s = BFloat16.sum(s, a[r * n + i]) }
                base[i] = s
            }
        }
    }

    /// Runs `allreduceBFloat16` now and returns a completed request.
    public func startAllreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws -> CommRequest {
        try allreduceBFloat16(buffer)
        return CompletedRequest()
    }

    /// Every rank's value of `x`, gathered.
    public func allgather(_ x: UInt64) throws -> [UInt64] {
        var mine = x
        var all = [UInt64](repeating: 0, count: size)
        try withUnsafeBytes(of: &mine) { send in
            try all.withUnsafeMutableBytes { try allgather(send, into: $0) }
        }
        return all
    }
}

/// Start offsets of consecutive blocks of the given sizes.
func prefixSums(_ counts: [Int]) -> [Int] {
    var out = [Int]()
    var acc = 0
    for c in counts {
        out.append(acc)
        acc += c
    }
    return out
}
