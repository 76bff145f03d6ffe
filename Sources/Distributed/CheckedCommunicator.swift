/// Debug mode: before each collective, all ranks compare what they are about to call
/// (sequence number, operation, size). A mismatch, the classic cause of a distributed hang,
/// becomes an error naming each rank's call and call site.
public final class CheckedCommunicator: Communicator {
    /// The communicator that does the work.
    public let inner: Communicator
    private var sequence = 0
    private var site = "unknown site"
    static let recordBytes = 200

    /// Wraps `inner`.
    public init(_ inner: Communicator) { self.inner = inner }
    /// This process's rank, 0..<size.
    public var rank: Int { inner.rank }
    /// Number of ranks.
    public var size: Int { inner.size }
    /// What carries the messages, for the start line (mpi, local, simulated).
    public var kind: String { inner.kind + "+checked" }

    /// Records the caller's file and line for the schedule check's messages.
    public func noteCallSite(_ file: StaticString, _ line: UInt) { site = "\(file):\(line)" }
    /// Shuts the communicator down (MPI_Finalize for MPI).
    public func finalize() { inner.finalize() }

    /// Exchanges "#seq signature" with every rank and fails on any difference.
    func verify(_ signature: String) throws {
        sequence += 1
        let call = "#\(sequence) \(signature)"
        let record =
            Array((call + "\u{1}" + site).utf8.prefix(Self.recordBytes))
            + [UInt8](repeating: 0, count: max(0, Self.recordBytes - (call + "\u{1}" + site).utf8.count))
        site = "unknown site"
        var all = [UInt8](repeating: 0, count: Self.recordBytes * size)
        try record.withUnsafeBytes { send in try all.withUnsafeMutableBytes { try inner.allgather(send, into: $0) } }
        let entries = (0..<size).map { r -> (call: String, site: String) in
            let bytes = all[(r * Self.recordBytes)..<((r + 1) * Self.recordBytes)].prefix { $0 != 0 }
            let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\u{1}", maxSplits: 1).map(String.init)
            return (parts.first ?? "", parts.count > 1 ? parts[1] : "?")
        }
        if entries.contains(where: { $0.call != call }) {
            let listing = entries.enumerated().map { "rank \($0.offset): \($0.element.call) at \($0.element.site)" }
                .joined(separator: "; ")
            throw CommError(rank: rank, call: call, message: "ranks disagree on the next collective: \(listing)")
        }
    }

    /// Waits until every rank has called it.
    public func barrier() throws {
        try verify("barrier")
        try inner.barrier()
    }
    /// Overwrites `buffer` on every rank with root's bytes.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try verify("broadcast \(buffer.count) bytes from \(root)")
        try inner.broadcast(buffer, root: root)
    }
    /// Replaces `buffer` on every rank by the elementwise sum over ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try verify("allreduce float32 x \(buffer.count)")
        try inner.allreduce(buffer)
    }
    /// Sums bfloat16 bit patterns over ranks (the inner communicator's reduction).
    public func allreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        try verify("allreduce bfloat16 x \(buffer.count)")
        try inner.allreduceBFloat16(buffer)
    }
    /// Starts summing bfloat16 bit patterns over ranks (the inner communicator's reduction).
    public func startAllreduceBFloat16(_ buffer: UnsafeMutableBufferPointer<UInt16>) throws -> CommRequest {
        try verify("allreduce bfloat16 x \(buffer.count) (non-blocking)")
        return try inner.startAllreduceBFloat16(buffer)
    }
    /// Replaces `buffer` on every rank by the elementwise sum over ranks (Float64).
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try verify("allreduce float64 x \(buffer.count)")
        try inner.allreduce(buffer)
    }
    /// Starts summing `buffer` over ranks; the request completes it.
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest {
        try verify("allreduce float32 x \(buffer.count) (non-blocking)")
        return try inner.startAllreduce(buffer)
    }
    /// Every rank's `send` bytes, in rank order, into `recv` on every rank.
    public func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws {
        try verify("allgather \(send.count) bytes")
        try inner.allgather(send, into: recv)
    }
    /// Sends each rank its own slice of `send` and receives every rank's slice for this one.
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]
    ) throws {
        try verify("alltoallv float32 x \(sendCounts.reduce(0, +))")
        try inner.alltoallv(
            send, sendCounts: sendCounts, sendOffsets: sendOffsets, recv, recvCounts: recvCounts,
            recvOffsets: recvOffsets)
    }
    /// Every rank's `counts[rank]` values, in rank order, into `recv` on every rank.
    public func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        try verify("allgatherv float32 x \(counts.reduce(0, +))")
        try inner.allgatherv(send, recv, counts: counts)
    }
    /// Ends every rank of the job with `code`, printing `message` once.
    public func abort(code: Int32, message: String) -> Never { inner.abort(code: code, message: message) }
}
