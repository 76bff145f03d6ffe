import Foundation
import Logging

/// Running sums a rank keeps between log lines, in Float64: summed across ranks with one small
/// allreduce, so the logged figures weigh every sample once whatever the world size.
public struct MetricSums: Equatable {
    public var loss = 0.0, correct = 0.0, count = 0.0
    /// Empty sums.
    public init() {}
    /// Loss, correct, count, in that order (for allreduce).
    public var values: [Double] { [loss, correct, count] }
    /// Sums from `values`' layout (loss, correct, count).
    public init(_ v: [Double]) {
        loss = v[0]
        correct = v[1]
        count = v[2]
    }
    /// Adds `b`'s sums.
    public static func += (a: inout MetricSums, b: MetricSums) {
        a.loss += b.loss
        a.correct += b.correct
        a.count += b.count
    }
    /// Loss per sample (NaN with no samples).
    public var meanLoss: Double { count > 0 ? loss / count : .nan }
    /// Share of samples predicted right (NaN with no samples).
    public var accuracy: Double { count > 0 ? correct / count : .nan }
}

/// One line of metrics.jsonl.
public struct MetricsRecord: Sendable {
    /// The optimizer step.
    public var step: Int
    /// The epoch, from 0.
    public var epoch: Int
    /// train, validation or test.
    public var split: String
    /// Mean loss.
    public var loss: Double
    /// Accuracy, for class labels.
    public var accuracy: Double?
    /// Training throughput of the interval.
    public var samplesPerSecond: Double?
    /// The learning rate at the step.
    public var lr: Double?
    /// Seconds since the run started.
    public var time: Double
    /// Samples the figures cover.
    public var samples: Int
    /// Train lines with more than one rank: mean milliseconds per step spent waiting for gradient
    /// reductions after backward, and the share of buckets whose reduction finished during backward.
    public var commWaitMs: Double? = nil
    /// Share of buckets reduced during backward.
    public var overlapped: Double? = nil
    /// With `distributed.measure_stragglers`: mean milliseconds per step a rank waited at the end
    /// of backward for the slowest (then `commWaitMs` is the reduction alone).
    public var stragglerWaitMs: Double? = nil
    /// With `distributed.measure_stragglers`: the rank that waited least, which the others waited for.
    public var slowestRank: Int? = nil

    /// The JSON line (keys in a fixed order).
    public var jsonLine: String {
        var parts = ["\"step\":\(step)", "\"epoch\":\(epoch)", "\"split\":\"\(split)\"", "\"loss\":\(json(loss))"]
        if let accuracy { parts.append("\"accuracy\":\(json(accuracy))") }
        if let samplesPerSecond { parts.append("\"samples_per_s\":\(json(samplesPerSecond.rounded()))") }
        if let lr { parts.append("\"lr\":\(json(lr))") }
        parts.append("\"samples\":\(samples)")
        if let commWaitMs { parts.append("\"comm_wait_ms\":\(json((commWaitMs * 1000).rounded() / 1000))") }
        if let overlapped { parts.append("\"overlapped\":\(json((overlapped * 1000).rounded() / 1000))") }
        if let stragglerWaitMs {
            parts.append("\"straggler_wait_ms\":\(json((stragglerWaitMs * 1000).rounded() / 1000))")
        }
        if let slowestRank { parts.append("\"slowest_rank\":\(slowestRank)") }
        parts.append("\"time\":\(json((time * 1000).rounded() / 1000))")
        return "{" + parts.joined(separator: ",") + "}"
    }

    private func json(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
}

/// Appends metrics lines to RUN_DIR/metrics.jsonl (rank 0 only), and their scalars to the
/// TensorBoard event file when one is given.
final class MetricsLog {
    let path: String
    private let handle: FileHandle
    private let logger: Logger
    private var tensorBoard: TensorBoardLog?

    /// Opens the log; when resuming from `step`, lines after that step (written by the run that
    /// was interrupted) are dropped so the file reads as one uninterrupted run.
    init(path: String, resumingAt step: Int?, logger: Logger, tensorBoard: (directory: String, config: String)? = nil)
        throws
    {
        self.path = path
        self.logger = logger
        // A fresh run starts an empty log; a resumed one keeps the lines up to its step.
        var kept = ""
        if let step,
            let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) })
        {
            kept = text.split(separator: "\n").filter { line in
                guard let d = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let s = d["step"] as? Int
                else { return false }
                return s <= step
            }.map { $0 + "\n" }.joined()
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(kept.utf8)) else {
            throw CheckpointError(path: path, message: "cannot create the metrics log")
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw CheckpointError(path: path, message: "cannot open the metrics log for writing")
        }
        handle = h
        handle.seekToEndOfFile()
        if let tensorBoard {  // an extra view of the same figures: its failure does not stop training
            let lines = kept.split(separator: "\n").map(String.init)
            do {
                self.tensorBoard = try TensorBoardLog(
                    directory: tensorBoard.directory, lines: lines, config: tensorBoard.config)
            } catch {
                let why = Checkpoint.describe(error)
                logger.warning("\(tensorBoard.directory): cannot write TensorBoard events (\(why)); TensorBoard is off")
            }
        }
    }

    /// The first write error (disk full, read-only file system): logging stops after one
    /// warning; the checkpoint writer's failure is what stops training.
    private(set) var failed = false

    func append(_ r: MetricsRecord) {
        guard !failed else { return }
        do {
            try handle.write(contentsOf: Data((r.jsonLine + "\n").utf8))
            try tensorBoard?.append(r.jsonLine)
        } catch {
            failed = true
            logger.warning(
                "\(path): cannot append metrics (\(Checkpoint.describe(error))); metrics are no longer logged")
        }
    }

    deinit { try? handle.close() }
}
