import Foundation

/// Rank 0's disk writer: checkpoints are written from in-memory snapshots on a background
/// queue, so no rank waits for the disk; `drain()` finishes what is in flight before exit.
final class CheckpointWriter {
    private let queue = DispatchQueue(label: "tandem.checkpoint")
    private let lock = NSLock()
    private var written: String?
    private var failure: String?

    /// The newest folder fully written.
    var lastWritten: String? { lock.lock(); defer { lock.unlock() }; return written }

    /// Queues a write; `then` runs on the writer's queue after success (pruning, events).
    func submit(_ snapshot: CheckpointSnapshot, into directory: String, then: @escaping (String) -> Void) {
        queue.async {
            do {
                let path = try Checkpoint.write(snapshot, in: directory)
                self.lock.lock(); self.written = path; self.lock.unlock()
                then(path)
            } catch {
                self.lock.lock(); self.failure = "\(error)"; self.lock.unlock()
                fputs("tandem: checkpoint at step \(snapshot.manifest.step) failed: \(error)\n", stderr)
            }
        }
    }

    /// Waits for every queued write.
    func drain() { queue.sync {} }
}
