import Foundation

/// Test-only faults, switched on by environment variables that no user sets by accident
/// (launch/fault-tests uses them to make rare failures happen on cue). Read once per process.
///   TANDEM_FAULT_CHECKPOINT_DELAY_S=S    sleep S seconds in the middle of every checkpoint write
///   TANDEM_FAULT_NONFINITE_GRADIENT=N:R  rank R's gradient becomes NaN (its loss stays finite)
///                                        in step N (counted from 1, as messages count steps)
///   TANDEM_FAULT_SLOW_STEPS=N:S          each of the first N steps of a run that did not resume
///                                        takes S seconds longer (a job the Slurm time limit
///                                        catches; results unchanged)
public enum FaultInjection {
    static let environment = ProcessInfo.processInfo.environment

    static let checkpointDelay: Double = environment["TANDEM_FAULT_CHECKPOINT_DELAY_S"].flatMap(Double.init) ?? 0

    static let nonFiniteGradient: (step: Int, rank: Int)? = {
        guard let v = environment["TANDEM_FAULT_NONFINITE_GRADIENT"] else { return nil }
        let parts = v.split(separator: ":").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }()

    static let slowSteps: (count: Int, seconds: Double)? = {
        guard let v = environment["TANDEM_FAULT_SLOW_STEPS"] else { return nil }
        let parts = v.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[0]), let s = Double(parts[1]) else { return nil }
        return (n, s)
    }()

    /// Sleeps before the 0-based step `step` when the slow-steps fault asks for it.
    static func delay(step: Int, resumed: Bool) {
        if let slow = slowSteps, step < slow.count, !resumed { Thread.sleep(forTimeInterval: slow.seconds) }
    }

    /// Whether rank `rank`'s gradient must be poisoned in the step that is 0-based `step`.
    static func poisonsGradient(step: Int, rank: Int) -> Bool {
        guard let f = nonFiniteGradient else { return false }
        return f.step == step + 1 && f.rank == rank
    }
}
