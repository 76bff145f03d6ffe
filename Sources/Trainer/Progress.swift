import Distributed
import Foundation
import Glibc

/// Rank 0's console: a live progress bar on a terminal, plain periodic lines otherwise.
final class Progress {
    let totalSteps: Int
    let isTerminal: Bool
    private var lastDraw = 0.0
    private let quiet: Bool

    init(totalSteps: Int, quiet: Bool) {
        self.totalSteps = totalSteps
        self.quiet = quiet
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    func line(_ s: String) {
        guard !quiet else { return }
        if isTerminal { write(toStandardError: "\r\u{1B}[2K") }
        write(toStandardError: s + "\n")
    }

    /// Called every step; draws at most ten times a second on a terminal.
    func update(step: Int, epoch: Int, loss: Double, samplesPerSecond: Double, elapsed: Double) {
        guard isTerminal && !quiet else { return }
        let now = ProcessInfo.processInfo.systemUptime
        guard now - lastDraw > 0.1 || step == totalSteps else { return }
        lastDraw = now
        let frac = totalSteps > 0 ? Double(step) / Double(totalSteps) : 0
        let width = 28
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let eta = frac > 0 ? elapsed / frac - elapsed : 0
        write(
            toStandardError: "\r\u{1B}[2Kepoch \(epoch + 1) \(bar) \(step)/\(totalSteps)  loss \(fmt(loss, 4))  "
                + "\(Int(samplesPerSecond)) samples/s  ETA \(clock(eta))")
    }

    func finish() { if isTerminal && !quiet { write(toStandardError: "\r\u{1B}[2K") } }
}

func fmt(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "\(x)" }

func clock(_ seconds: Double) -> String {
    guard seconds.isFinite && seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    return s >= 3600
        ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
