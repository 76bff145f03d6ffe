import Foundation
import Tensor

/// The one seam through which test-only faults reach production code. `FaultInjection.hooks` is
/// nil in every process that sets no TANDEM_FAULT_* variable, and each of the three call sites
/// (a checkpoint file written, a step starting, a backward pass seeded) is one optional call.
protocol FaultHooks: Sendable {
    /// After each data file of a checkpoint is written and synced (before the next one).
    func checkpointFileWritten()
    /// Before the 0-based step `step` of this process's run.
    func stepStarting(_ step: Int, resumed: Bool)
    /// The seed for backward of `loss` in 0-based step `step` on rank `rank`; nil: the usual ones.
    func backwardSeed(step: Int, rank: Int, loss: Tensor) -> Tensor?
}

/// Test-only faults, switched on by environment variables that no user sets by accident
/// (launch/fault-tests uses them to make rare failures happen on cue). Read once per process.
///   TANDEM_FAULT_CHECKPOINT_DELAY_S=S    sleep S seconds in the middle of every checkpoint write
///   TANDEM_FAULT_NONFINITE_GRADIENT=N:R  rank R's gradient becomes NaN (its loss stays finite)
///                                        in step N (counted from 1, as messages count steps)
///   TANDEM_FAULT_SLOW_STEPS=N:S          each of the first N steps of a run that did not resume
///                                        takes S seconds longer (a job the Slurm time limit
///                                        catches; results unchanged)
enum FaultInjection {
    /// The faults this process was asked for, or nil (every normal run).
    static let hooks: FaultHooks? = EnvironmentFaults(ProcessInfo.processInfo.environment)
}

/// The faults the TANDEM_FAULT_* variables describe.
struct EnvironmentFaults: FaultHooks {
    let checkpointDelay: Double
    let nonFiniteGradient: (step: Int, rank: Int)?
    let slowSteps: (count: Int, seconds: Double)?

    /// nil when no variable asks for a fault.
    init?(_ environment: [String: String]) {
        checkpointDelay = environment["TANDEM_FAULT_CHECKPOINT_DELAY_S"].flatMap(Double.init) ?? 0
        nonFiniteGradient = environment["TANDEM_FAULT_NONFINITE_GRADIENT"].flatMap { v in
            let parts = v.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        slowSteps = environment["TANDEM_FAULT_SLOW_STEPS"].flatMap { v in
            let parts = v.split(separator: ":")
            guard parts.count == 2, let n = Int(parts[0]), let s = Double(parts[1]) else { return nil }
            return (n, s)
        }
        if checkpointDelay <= 0 && nonFiniteGradient == nil && slowSteps == nil { return nil }
    }

    func checkpointFileWritten() {
        if checkpointDelay > 0 { Thread.sleep(forTimeInterval: checkpointDelay) }
    }

    func stepStarting(_ step: Int, resumed: Bool) {
        if let slow = slowSteps, step < slow.count, !resumed { Thread.sleep(forTimeInterval: slow.seconds) }
    }

    /// NaN gradients with a finite loss, in the step and on the rank asked for.
    func backwardSeed(step: Int, rank: Int, loss: Tensor) -> Tensor? {
        guard let f = nonFiniteGradient, f.step == step + 1, f.rank == rank else { return nil }
        return Tensor([.nan], shape: loss.shape)
    }
}
