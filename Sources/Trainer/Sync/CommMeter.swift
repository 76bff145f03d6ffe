import Distributed
import Foundation

/// The communication figures of a log interval, kept the same way by both sync strategies: the
/// time spent in gradient reductions, the share of buckets reduced during backward (fast mode),
/// and with `distributed.measure_stragglers` how long each rank waited at the end of backward
/// for the slowest (a timed barrier before the reduction, so a log line tells a slow rank from a
/// slow network; one collective's latency per step, hence off by default).
final class CommMeter {
    private let communicator: Communicator
    private let measuresArrival: Bool
    private var reductionSeconds = 0.0, arrivalSeconds = 0.0, overlapped = 0.0
    private var steps = 0

    init(measuresStragglers: Bool, communicator: Communicator) {
        self.communicator = communicator
        measuresArrival = measuresStragglers && communicator.size > 1
    }

    /// With stragglers measured: waits for every rank to finish its backward, counting the wait.
    func arrive() throws {
        guard measuresArrival else { return }
        let t0 = ProcessInfo.processInfo.systemUptime
        try communicator.at().barrier()
        arrivalSeconds += ProcessInfo.processInfo.systemUptime - t0
    }

    /// One step's reduction: its seconds, and the share of buckets already reduced (fast mode).
    func record(reductionSeconds seconds: Double, overlapped share: Double = 0) {
        reductionSeconds += seconds
        overlapped += share
        steps += 1
    }

    /// The interval's figures (nil on one rank or with no step), then a fresh interval. With
    /// stragglers measured, a collective (every rank calls it at the same step): the ranks' mean
    /// wait and the rank that waited least, which the others waited for.
    func take(reportsOverlap: Bool) throws -> CommStatistics? {
        defer {
            reductionSeconds = 0
            arrivalSeconds = 0
            overlapped = 0
            steps = 0
        }
        guard communicator.size > 1 else { return nil }
        var stragglers: (meanMs: Double, slowest: Int)? = nil
        if measuresArrival {
            let mine = steps > 0 ? arrivalSeconds / Double(steps) : 0
            let all = try communicator.at().allgather(mine.bitPattern).map(Double.init(bitPattern:))
            if let least = all.indices.min(by: { all[$0] < all[$1] }) {
                stragglers = (all.reduce(0, +) / Double(all.count) * 1000, least)
            }
        }
        guard steps > 0 else { return nil }
        return CommStatistics(
            waitMs: reductionSeconds / Double(steps) * 1000,
            overlapped: reportsOverlap ? overlapped / Double(steps) : nil,
            stragglerWaitMs: stragglers?.meanMs, slowestRank: stragglers?.slowest)
    }
}
