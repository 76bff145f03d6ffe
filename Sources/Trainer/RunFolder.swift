import Foundation
import Glibc

/// A run directory's layout: where each of Tandem's files goes, which files are Tandem's, and
/// clearing them for `--fresh`. The CLI, the trainer and the checkpoint code all ask it, so a new
/// file (best_model.safetensors once was one) is known to every part at once.
public struct RunFolder: Sendable, Equatable {
    /// The run directory itself.
    public let path: String

    /// The layout under `path`.
    public init(_ path: String) { self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path }

    /// `checkpoints/`: one `step-N` folder per checkpoint.
    public var checkpoints: String { path + "/checkpoints" }
    /// `metrics.jsonl`: one JSON line per log interval and evaluation.
    public var metrics: String { path + "/metrics.jsonl" }
    /// `config.json`: the resolved config of the run.
    public var config: String { path + "/config.json" }
    /// `tensorboard/`: the event file TensorBoard reads.
    public var tensorBoard: String { path + "/tensorboard" }

    /// Prefix of TensorBoard event file names (TensorFlow's convention).
    public static let eventFilePrefix = "events.out.tfevents."

    /// Checkpoint folders, newest step first (temporary ones excluded).
    public var checkpointCandidates: [String] { Checkpoint.candidates(in: checkpoints) }

    /// Removes what Tandem writes here and nothing else: checkpoint folders (finished or
    /// half-written) holding only checkpoint files, metrics.jsonl, config.json and event files.
    /// A user's file, or a folder that only looks like a checkpoint, stays and is named through
    /// `warn`; so does every folder that is not empty afterwards.
    public func clear(warn: (String) -> Void) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: checkpoints)) ?? [] where name.hasPrefix("step-") {
            let folder = checkpoints + "/" + name
            guard let files = try? fm.contentsOfDirectory(atPath: folder), Set(files).isSubset(of: Checkpoint.files)
            else {
                warn("leaves \(folder): it holds files Tandem did not write")
                continue
            }
            try? fm.removeItem(atPath: folder)
        }
        rmdir(checkpoints)  // only if now empty
        for file in [metrics, config] { try? fm.removeItem(atPath: file) }
        for name in (try? fm.contentsOfDirectory(atPath: tensorBoard)) ?? [] where name.hasPrefix(Self.eventFilePrefix)
        {
            try? fm.removeItem(atPath: tensorBoard + "/" + name)
        }
        rmdir(tensorBoard)  // only if now empty
    }
}
