import Distributed
import Foundation

/// `distributed.measure_stragglers`: how long each rank waits at the end of backward for the
/// slowest one (a timed barrier before the gradient reduction), so a log line tells a slow rank
/// from a slow network. The barrier costs one collective's latency per step; off by default.
final class ArrivalMeter {
    private let communicator: Communicator
    private var waitSeconds = 0.0
    private var steps = 0

    init(communicator: Communicator) { self.communicator = communicator }

    /// Waits for every rank to finish its backward and counts the time this rank waited.
    func arrive() throws {
        let t0 = ProcessInfo.processInfo.systemUptime
        try communicator.at().barrier()
        waitSeconds += ProcessInfo.processInfo.systemUptime - t0
        steps += 1
    }

    /// Every rank's mean wait since the last call, gathered (a collective: all ranks call it at the
    /// same step): the mean over ranks in milliseconds, and the rank that waited least, which
    /// the others waited for.
    func take() throws -> (meanWaitMs: Double, slowestRank: Int)? {
        defer {
            waitSeconds = 0
            steps = 0
        }
        let mine = steps > 0 ? waitSeconds / Double(steps) : 0
        let all = try communicator.at().allgather(mine.bitPattern).map(Double.init(bitPattern:))
        guard steps > 0, let least = all.indices.min(by: { all[$0] < all[$1] }) else { return nil }
        return (all.reduce(0, +) / Double(all.count) * 1000, least)
    }
}
