import Data

/// What a resumed run takes from its checkpoint besides tensors: rank 0 reads and validates it,
/// every rank receives it as one broadcast of Float64s. Every value is range-checked where it is
/// made (from a manifest) and again where it is decoded, so no later conversion can trap.
struct ResumeState: Equatable {
    /// Optimizer steps taken.
    var step: Int
    /// The sampler's position.
    var cursor: Cursor
    /// Training metrics gathered since the last log line.
    var pending: MetricSums
    /// The optimizer's own step count (bias correction).
    var optimizerSteps: Int
    /// keep_best's best validation figure.
    var keepBest: MonitorState?
    /// Early stopping's state.
    var earlyStopping: MonitorState?
    /// Whether the checkpoint holds restore_best's weights (broadcast after this state).
    var hasBestWeights: Bool

    /// A broadcast's length: found, step, epoch, offset, pending x3, optimizer steps, keep_best
    /// x3, early stopping x3, best weights present.
    static let encodedCount = 15

    /// Largest whole number a count may hold: exact as a Float64, far from `Int` overflow.
    static let maxCount = Double(CheckpointManifest.maxStep)

    /// The state a checkpoint records; throws the first range problem.
    init(manifest m: CheckpointManifest, optimizerSteps: Int, hasBestWeights: Bool) throws {
        if let problem = m.problems().first { throw ResumeStateError(problem) }
        guard (0...CheckpointManifest.maxStep).contains(optimizerSteps) else {
            throw ResumeStateError(
                "optimizer step count \(optimizerSteps) is outside 0...\(CheckpointManifest.maxStep)")
        }
        step = m.step
        cursor = m.cursor
        pending = MetricSums(m.pendingMetrics)
        self.optimizerSteps = optimizerSteps
        keepBest = m.keepBest
        earlyStopping = m.earlyStopping
        self.hasBestWeights = hasBestWeights
    }

    /// The broadcast's values; a leading 1 says a checkpoint was found.
    func encoded() -> [Double] {
        var v: [Double] = [1, Double(step), Double(cursor.epoch), Double(cursor.offset)]
        v += pending.values
        v.append(Double(optimizerSteps))
        v += Self.encode(keepBest)
        v += Self.encode(earlyStopping)
        v.append(hasBestWeights ? 1 : 0)
        return v
    }

    /// The broadcast of "nothing to resume from".
    static var none: [Double] { [Double](repeating: 0, count: encodedCount) }

    /// Decodes a broadcast: nil when it says no checkpoint was found; throws if any value is out
    /// of range (a broadcast from a Tandem that wrote another layout).
    init?(decoding v: [Double]) throws {
        guard v.count == Self.encodedCount else {
            throw ResumeStateError("resume state has \(v.count) values, expected \(Self.encodedCount)")
        }
        guard v[0] == 1 else { return nil }
        func whole(_ x: Double, _ name: String) throws -> Int {
            guard x.rounded() == x, (0...Self.maxCount).contains(x) else {
                throw ResumeStateError("\(name) \(x) is not a whole number in 0...\(Int(Self.maxCount))")
            }
            return Int(x)
        }
        func monitor(_ s: ArraySlice<Double>, _ name: String) throws -> MonitorState? {
            let s = Array(s)
            if s[1].isNaN { return nil }
            guard s[0].isFinite else { throw ResumeStateError("\(name) best value \(s[0]) is not finite") }
            return MonitorState(
                best: s[0], step: try whole(s[1], name + " step"), stale: try whole(s[2], name + " stale"))
        }
        step = try whole(v[1], "step")
        cursor = Cursor(epoch: try whole(v[2], "cursor.epoch"), offset: try whole(v[3], "cursor.offset"))
        pending = MetricSums(Array(v[4...6]))
        if let problem = Self.problem(pending) { throw ResumeStateError(problem) }
        optimizerSteps = try whole(v[7], "optimizer step count")
        keepBest = try monitor(v[8...10], "keep_best")
        earlyStopping = try monitor(v[11...13], "early_stopping")
        hasBestWeights = v[14] == 1
    }

    /// Why pending metrics cannot be continued (nil: they can): a finite loss and
    /// 0 <= correct <= count <= maxCount (correct may be fractional: soft targets score a share).
    static func problem(_ p: MetricSums) -> String? {
        guard p.loss.isFinite, p.correct >= 0, p.correct <= p.count, p.count <= maxCount else {
            return "pending_metrics \(p.values) are not a finite loss with 0 <= correct <= count <= \(Int(maxCount))"
        }
        return nil
    }

    /// Three Float64s; a NaN step means none.
    private static func encode(_ s: MonitorState?) -> [Double] {
        s.map { [$0.best, Double($0.step), Double($0.stale)] } ?? [0, .nan, 0]
    }
}

/// A resume state value out of range: the message names the field.
struct ResumeStateError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
