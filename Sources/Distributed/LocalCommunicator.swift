import Foundation
import Glibc

/// A world of one: no MPI at all (single-node debug mode, plain `tandem train`).
public final class LocalCommunicator: Communicator {
    /// The communicator of a single process.
    public init() {}
    /// This process's rank, 0..<size.
    public var rank: Int { 0 }
    /// Number of ranks.
    public var size: Int { 1 }
    /// What carries the messages, for the start line (mpi, local, simulated).
    public var kind: String { "local" }
    /// Waits until every rank has called it.
    public func barrier() throws {}
    /// Overwrites `buffer` on every rank with root's bytes.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    /// Replaces `buffer` on every rank by the elementwise sum over ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    /// Replaces `buffer` on every rank by the elementwise sum over ranks (Float64).
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    /// Starts summing `buffer` over ranks; the request completes it.
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest { CompletedRequest() }
    /// Every rank's `send` bytes, in rank order, into `recv` on every rank.
    public func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws {
        recv.copyMemory(from: send)
    }
    /// Sends each rank its own slice of `send` and receives every rank's slice for this one.
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]
    ) throws {
        (recv + recvOffsets[0]).update(from: send + sendOffsets[0], count: sendCounts[0])
    }
    /// Every rank's `counts[rank]` values, in rank order, into `recv` on every rank.
    public func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        if recv != UnsafeMutablePointer(mutating: send) { recv.update(from: send, count: counts[0]) }
    }
    /// Ends every rank of the job with `code`, printing `message` once.
    public func abort(code: Int32, message: String) -> Never { exitWithMessage(code, message) }
}

/// A request that completed when it was made.
final class CompletedRequest: CommRequest {
    func test() throws -> Bool { true }
    func wait() throws {}
}

/// Prints `message` (one line) on stderr and exits the process.
func exitWithMessage(_ code: Int32, _ message: String) -> Never {
    printLine(toStandardError: message)
    exit(code)
}

/// Writes `message` and a newline (unless it ends with one) to stderr, unbuffered: a message
/// printed just before an abort must not wait in a stdio buffer.
public func printLine(toStandardError message: String) {
    write(toStandardError: message.hasSuffix("\n") ? message : message + "\n")
}

/// Writes `text` to stderr as it is, unbuffered (also from threads: no shared stdio state).
public func write(toStandardError text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
