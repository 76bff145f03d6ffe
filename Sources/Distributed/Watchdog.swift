import Foundation

/// Ends the job when a collective stalls: a rank that died or skipped a collective would
/// otherwise leave every other rank (and mpirun) waiting forever.
///
/// Each collective runs inside `watch`, which records (sequence number, description, start);
/// a background thread checks the record and calls `onTimeout` with a message naming it.
///
/// Sendable because the checking thread reads `current` and `fired` only under `lock`, and
/// `sequence` is touched only by the thread that runs the collectives.
public final class Watchdog: @unchecked Sendable {
    /// Seconds a collective may take.
    public let timeout: Double
    /// What the user calls that limit (a config key), named in the message.
    private let setting: String
    private let rank: Int
    private let onTimeout: @Sendable (String) -> Void
    private let lock = NSLock()
    private var current: (seq: Int, what: String, start: Double)?
    private var fired = false
    /// Collectives started so far.
    public private(set) var sequence = 0

    /// A watchdog that ends the job when a collective runs longer than `timeout` seconds.
    public init(
        timeout: Double, setting: String = "the collective timeout", rank: Int,
        onTimeout: @escaping @Sendable (String) -> Void
    ) {
        precondition(timeout > 0, "Watchdog: timeout must be positive")
        self.timeout = timeout
        self.setting = setting
        self.rank = rank
        self.onTimeout = onTimeout
        let poll = min(0.1, timeout / 10)
        let thread = Thread { [weak self] in
            while let me = self {
                me.check()
                Thread.sleep(forTimeInterval: poll)
            }
        }
        thread.name = "tandem-watchdog"
        thread.start()
    }

    /// Runs one collective under the watchdog.
    @inline(__always)
    public func watch<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        sequence += 1
        current = (sequence, what(), ProcessInfo.processInfo.systemUptime)
        lock.unlock()
        defer {
            lock.lock()
            current = nil
            lock.unlock()
        }
        return try body()
    }

    private func check() {
        lock.lock()
        guard !fired, let c = current, ProcessInfo.processInfo.systemUptime - c.start > timeout else {
            lock.unlock()
            return
        }
        fired = true
        lock.unlock()
        onTimeout(
            "tandem: rank \(rank): collective #\(c.seq) (\(c.what)) has not completed after "
                + "\(formatSeconds(timeout)) (\(setting)); a rank has probably died, stalled or skipped a "
                + "collective; ending the job"
        )
    }
}

func formatSeconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : "\(s) s" }
