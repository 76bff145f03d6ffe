import Foundation
import Glibc

/// A world of one: no MPI at all (single-node debug mode, plain `tandem train`).
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var kind: String { "local" }
    public func barrier() throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest { CompletedRequest() }
    public func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws {
        recv.copyMemory(from: send)
    }
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]
    ) throws {
        (recv + recvOffsets[0]).update(from: send + sendOffsets[0], count: sendCounts[0])
    }
    public func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        if recv != UnsafeMutablePointer(mutating: send) { recv.update(from: send, count: counts[0]) }
    }
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
