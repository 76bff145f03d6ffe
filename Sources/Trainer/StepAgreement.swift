/// What all ranks agree on after each step, in one small Float64 allreduce: whether any rank
/// saw a stop signal or a non-finite loss, whether rank 0's checkpoint writer failed, and the
/// step's metric sums (the loss in one slot per virtual shard in exact mode, added in shard
/// order afterwards, so logged losses are the same for every rank count). Encoded as flags and
/// sums: the allreduce's addition is the agreement. Batch norm statistics ride along at the end
/// (`RunningStatistics`).
struct StepAgreement {
    var stop = false
    var nonFinite = false
    var checkpointFailed = false
    var correct = 0.0
    var count = 0.0
    var slotLosses: [Double]
    /// Sums that are not metrics (batch norm statistics), after the slot losses.
    var extra: [Double] = []

    init(slots: Int) { slotLosses = [Double](repeating: 0, count: slots) }

    static let headerCount = 5

    var encoded: [Double] {
        [stop ? 1 : 0, nonFinite ? 1 : 0, checkpointFailed ? 1 : 0, correct, count] + slotLosses + extra
    }

    /// The agreement from an allreduced vector of `encoded`'s layout with `slots` loss slots.
    init(decoding v: [Double], slots: Int) {
        precondition(v.count >= Self.headerCount + slots, "step agreement: \(v.count) values")
        stop = v[0] > 0
        nonFinite = v[1] > 0
        checkpointFailed = v[2] > 0
        correct = v[3]
        count = v[4]
        slotLosses = Array(v[Self.headerCount..<Self.headerCount + slots])
        extra = Array(v[(Self.headerCount + slots)...])
    }

    /// The global sums; slot losses are added in slot order.
    var sums: MetricSums {
        var s = MetricSums()
        s.correct = correct
        s.count = count
        for l in slotLosses { s.loss += l }
        return s
    }
}
