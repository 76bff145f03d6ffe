import Foundation

/// Rank 0's disk writer: checkpoints are written from in-memory snapshots on a background
/// queue, so no rank waits for the disk; `drain()` finishes what is in flight before exit.
/// At most `maxQueued` snapshots wait or are being written: when the disk is slower than the
/// checkpoint rate, `submit` waits for room instead of piling up snapshot copies in memory.
/// After a failure, queued snapshots are dropped (no new half-written folders).
///
/// Sendable because `written` and `failure` change only under `lock`; the queue and the
/// semaphore are thread-safe.
final class CheckpointWriter: @unchecked Sendable {
    static let maxQueued = 2
    private let queue = DispatchQueue(label: "tandem.checkpoint")
    private let room = DispatchSemaphore(value: maxQueued)
    private let lock = NSLock()
    private var written: String?
    private var failure: String?

    /// The first write that failed (its message names the path), if any; the trainer stops every
    /// rank at the next step boundary when it sees one.
    var firstFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    /// The newest folder fully written.
    var lastWritten: String? {
        lock.lock()
        defer { lock.unlock() }
        return written
    }

    /// Queues a write; `then` runs on the writer's queue after success (pruning, events).
    func submit(_ snapshot: CheckpointSnapshot, into directory: String, then: @escaping @Sendable (String) -> Void) {
        room.wait()
        queue.async {
            defer { self.room.signal() }
            guard self.firstFailure == nil else { return }
            do {
                let path = try Checkpoint.write(snapshot, in: directory)
                self.lock.lock()
                self.written = path
                self.lock.unlock()
                then(path)
            } catch {
                self.lock.lock()
                if self.failure == nil {
                    self.failure = "checkpoint at step \(snapshot.manifest.step) could not be written: \(error)"
                }
                self.lock.unlock()
            }
        }
    }

    /// Waits for every queued write.
    func drain() { queue.sync {} }
}
