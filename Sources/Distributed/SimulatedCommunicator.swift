import Foundation
import Synchronization

/// N ranks as threads of one process: `--simulate-ranks N` reproduces an N-rank run under a
/// debugger, and tests use it to check collectives without mpirun. Sums are taken in rank order.
///
/// Sendable because its counters change only under `cond`, and each rank writes only its own slot.
public final class SimulatedWorld: @unchecked Sendable {
    /// Number of ranks.
    public let size: Int
    /// Seconds a rank waits at a collective before it reports a stall.
    public let timeout: Double
    private let cond = NSCondition()
    private var arrived = 0, generation = 0, broken: String?
    // One published pointer per rank. A raw buffer, not a Swift array: ranks write their own
    // element concurrently, and concurrent writes to one Array race on its copy-on-write check.
    fileprivate let slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// What the user calls the timeout, for messages.
    let timeoutSetting: String

    /// A world of `size` simulated ranks; a collective waiting longer than `timeout` seconds fails.
    public init(size: Int, timeout: Double = 300, timeoutSetting: String = "the collective timeout") {
        precondition(size >= 1, "SimulatedWorld: size must be at least 1")
        self.size = size
        self.timeout = timeout
        self.timeoutSetting = timeoutSetting
        slots = .allocate(capacity: size)
        slots.initialize(repeating: nil, count: size)
    }

    deinit { slots.deallocate() }

    /// Runs `body` once per rank, each on its own thread, and waits for all; rethrows the first error.
    public static func run(
        size: Int, timeout: Double = 300, timeoutSetting: String = "the collective timeout",
        _ body: @escaping @Sendable (SimulatedCommunicator) throws -> Void
    ) throws {
        let world = SimulatedWorld(size: size, timeout: timeout, timeoutSetting: timeoutSetting)
        let errors = Mutex<[(any Error)?]>(Array(repeating: nil, count: size))
        let group = DispatchGroup()
        for r in 0..<size {
            group.enter()
            let t = Thread {
                do { try body(SimulatedCommunicator(world: world, rank: r)) } catch {
                    errors.withLock { $0[r] = error }
                    world.breakWorld("rank \(r) failed: \(error)")
                }
                group.leave()
            }
            t.stackSize = 16 << 20
            t.start()
        }
        group.wait()
        if let e = errors.withLock({ $0.compactMap { $0 }.first }) { throw e }
    }

    func breakWorld(_ why: String) {
        cond.lock()
        if broken == nil { broken = why }
        cond.broadcast()
        cond.unlock()
    }

    /// Every rank arrives, or the wait times out (a rank skipped or stalled).
    func barrier(rank: Int, what: String, seq: Int) throws {
        cond.lock()
        defer { cond.unlock() }
        if let b = broken { throw CommError(rank: rank, call: what, message: "another rank failed first (\(b))") }
        let gen = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            cond.broadcast()
            return
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while gen == generation {
            if let b = broken { throw CommError(rank: rank, call: what, message: "another rank failed first (\(b))") }
            if !cond.wait(until: deadline) && gen == generation {
                let message =
                    "collective #\(seq) (\(what)) has not completed after \(formatSeconds(timeout)) (\(timeoutSetting))"
                if broken == nil { broken = "rank \(rank): \(message)" }
                cond.broadcast()
                throw CommError(rank: rank, call: what, message: message)
            }
        }
    }
}

/// One simulated rank.
public final class SimulatedCommunicator: Communicator {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// Number of ranks.
    public var size: Int { world.size }
    /// What carries the messages, for the start line (mpi, local, simulated).
    public var kind: String { "simulated" }
    let world: SimulatedWorld
    private var seq = 0

    init(world: SimulatedWorld, rank: Int) {
        self.world = world
        self.rank = rank
    }

    /// Publish a pointer, wait for all, let `read` use everyone's, wait again so nobody
    /// overwrites a source still being read, then `finish` writes this rank's result.
    private func exchange(
        _ what: String, _ mine: UnsafeMutableRawPointer?, read: (UnsafeBufferPointer<UnsafeMutableRawPointer?>) -> Void,
        finish: () -> Void = {}
    ) throws {
        seq += 1
        world.slots[rank] = mine
        try world.barrier(rank: rank, what: what, seq: seq)
        read(UnsafeBufferPointer(start: world.slots, count: world.size))
        try world.barrier(rank: rank, what: what, seq: seq)
        finish()
    }

    /// Waits until every rank has called it.
    public func barrier() throws { try exchange("barrier", nil, read: { _ in }) }

    /// Overwrites `buffer` on every rank with root's bytes.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        var copy = [UInt8](repeating: 0, count: buffer.count)
        try exchange(
            "broadcast \(buffer.count) bytes from rank \(root)", buffer.baseAddress,
            read: { slots in
                copy.withUnsafeMutableBytes {
                    $0.copyMemory(from: UnsafeRawBufferPointer(start: slots[root], count: buffer.count))
                }
            },
            finish: {
                if rank != root {
                    buffer.copyMemory(
                        from: UnsafeRawBufferPointer(start: copy.withUnsafeBytes { $0.baseAddress }, count: copy.count))
                }
            })
    }

    private func sum<T: FloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, _ what: String) throws {
        var total = [T](repeating: 0, count: buffer.count)
        try exchange(
            what, UnsafeMutableRawPointer(buffer.baseAddress),
            read: { slots in
                for s in slots {
                    let p = s!.assumingMemoryBound(to: T.self)
                    for i in 0..<buffer.count { total[i] += p[i] }
                }
            }, finish: { for i in 0..<buffer.count { buffer[i] = total[i] } })
    }

    /// Replaces `buffer` on every rank by the elementwise sum over ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try sum(buffer, "allreduce float32 x \(buffer.count)")
    }
    /// Replaces `buffer` on every rank by the elementwise sum over ranks (Float64).
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try sum(buffer, "allreduce float64 x \(buffer.count)")
    }

    /// Starts summing `buffer` over ranks; the request completes it.
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> CommRequest {
        try allreduce(buffer)
        return CompletedRequest()
    }

    /// Every rank's `send` bytes, in rank order, into `recv` on every rank.
    public func allgather(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawBufferPointer) throws {
        try exchange(
            "allgather \(send.count) bytes", UnsafeMutableRawPointer(mutating: send.baseAddress),
            read: { slots in
                for (r, s) in slots.enumerated() {
                    (recv.baseAddress! + r * send.count).copyMemory(from: s!, byteCount: send.count)
                }
            })
    }

    /// Sends each rank its own slice of `send` and receives every rank's slice for this one.
    public func alltoallv(
        _ send: UnsafePointer<Float>, sendCounts: [Int], sendOffsets: [Int],
        _ recv: UnsafeMutablePointer<Float>, recvCounts: [Int], recvOffsets: [Int]
    ) throws {
        // Where each rank keeps its block for me: gather (offset) for my index from everyone.
        var sourceOffsets = [Int](repeating: 0, count: size)
        for k in 0..<size {
            let all = try allgather(UInt64(sendOffsets[k]))
            if k == rank { sourceOffsets = all.map(Int.init) }
        }
        try exchange(
            "alltoallv float32 x \(sendCounts.reduce(0, +))", UnsafeMutableRawPointer(mutating: send),
            read: { slots in
                for (r, s) in slots.enumerated() where recvCounts[r] > 0 {
                    (recv + recvOffsets[r]).update(
                        from: s!.assumingMemoryBound(to: Float.self) + sourceOffsets[r], count: recvCounts[r])
                }
            })
    }

    /// Every rank's `counts[rank]` values, in rank order, into `recv` on every rank.
    public func allgatherv(_ send: UnsafePointer<Float>, _ recv: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        var gathered = [Float](repeating: 0, count: counts.reduce(0, +))
        try exchange(
            "allgatherv float32 x \(gathered.count)", UnsafeMutableRawPointer(mutating: send),
            read: { slots in
                var at = 0
                for (r, s) in slots.enumerated() {
                    for i in 0..<counts[r] { gathered[at + i] = s!.assumingMemoryBound(to: Float.self)[i] }
                    at += counts[r]
                }
            }, finish: { recv.update(from: gathered, count: gathered.count) })
    }

    /// Ends every rank of the job with `code`, printing `message` once.
    public func abort(code: Int32, message: String) -> Never { exitWithMessage(code, message) }
}
