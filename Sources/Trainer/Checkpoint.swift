import Data
import Foundation
import Glibc
import NN

/// What trainer.json records: enough, with the two safetensors files, to continue a run exactly.
public struct CheckpointManifest: Codable {
    /// The `format` every Tandem checkpoint carries.
    public static let formatName = "tandem-checkpoint"
    /// The version this Tandem writes and reads.
    public static let currentVersion = 1

    /// Always `tandem-checkpoint`.
    public var format: String = formatName
    /// The layout's version.
    public var version: Int = currentVersion
    /// Optimizer steps taken.
    public var step: Int
    /// Sampler position: epoch and samples of that epoch already used.
    public var cursor: Cursor
    /// The run's seed.
    public var seed: UInt64
    /// Ranks of the run that wrote it.
    public var worldSize: Int
    /// Training metrics gathered since the last log line (so a resumed run logs the same lines).
    public var pendingMetrics: [Double]
    /// Last test metrics, if any.
    public var lastTest: [String: Double]?
    /// The best validation figure for keep_best, and early stopping's state.
    public var keepBest: MonitorState?
    /// Early stopping's best value, its step and the evaluations since (nil without early stopping).
    public var earlyStopping: MonitorState?
    /// Size and CRC-32 of each data file.
    public var files: [String: FileRecord]
    /// The resolved config, as `TrainingConfig.parse` reads it.
    public var config: JSONAny
    /// How samples became input (absent in checkpoints of earlier versions).
    public var input: InputRecord?

    /// A data file's size and checksum.
    public struct FileRecord: Codable, Equatable {
        /// Size in bytes.
        public var bytes: Int
        /// CRC-32 in hex.
        public var crc32: String
    }

    /// Largest step accepted from a file: far beyond any run, exact as a Double (steps travel
    /// in the Float64 resume broadcast), far from Int overflow.
    public static let maxStep = 1 << 40

    /// Every field's range, checked before anything is sized or converted from it.
    public func problems() -> [String] {
        var p: [String] = []
        if !(0...Self.maxStep).contains(step) { p.append("step \(step) is outside 0...\(Self.maxStep)") }
        if !(0...Cursor.maxEpoch).contains(cursor.epoch) {
            p.append("cursor.epoch \(cursor.epoch) is outside 0...\(Cursor.maxEpoch)")
        }
        if !(0...Self.maxStep).contains(cursor.offset) {
            p.append("cursor.offset \(cursor.offset) is outside 0...\(Self.maxStep)")
        }
        if !(1...(1 << 24)).contains(worldSize) { p.append("world_size \(worldSize) is outside 1...\(1 << 24)") }
        if pendingMetrics.count != MetricSums().values.count {
            p.append(
                "pending_metrics has \(pendingMetrics.count) values, not \(MetricSums().values.count) (loss, "
                    + "correct, count)"
            )
        } else if let problem = ResumeState.problem(MetricSums(pendingMetrics)) {
            p.append(problem)
        }
        p += keepBest?.problems("keep_best") ?? []
        p += earlyStopping?.problems("early_stopping") ?? []
        for (name, f) in files.sorted(by: { $0.key < $1.key }) where f.bytes < 0 {
            p.append("files.\(name).bytes is negative")
        }
        p += input?.problems() ?? []
        return p
    }

    enum CodingKeys: String, CodingKey {
        case format, version, step, cursor, seed
        case worldSize = "world_size"
        case pendingMetrics = "pending_metrics"
        case lastTest = "last_test"
        case keepBest = "keep_best"
        case earlyStopping = "early_stopping"
        case files, config, input
    }
}

/// A checkpoint in memory: copies taken at a step boundary, written later on a background thread.
/// Sendable because its tensors are copies made for the writer: once submitted, only the
/// writer's queue reads them.
public struct CheckpointSnapshot: @unchecked Sendable {
    /// trainer.json's contents.
    public var manifest: CheckpointManifest
    /// Parameters and buffers.
    public var model: NamedTensors
    /// Optimizer state tensors.
    public var optimizer: NamedTensors
    /// Optimizer name and step count.
    public var optimizerMetadata: [String: String]
    /// Model entries that are integer counters (written as I64, as PyTorch does).
    public var modelCounters: Set<String> = []
    /// The weights of the best validation result, which early stopping's restore_best puts back.
    public var bestModel: NamedTensors? = nil
}

/// A checkpoint folder that could not be used, and why.
public struct CheckpointError: Error, CustomStringConvertible {
    /// The folder or file.
    public let path: String
    /// What is wrong with it.
    public let message: String
    /// The message as one line.
    public var description: String { "\(path): \(message)" }
}

/// The checkpoint layout of DESIGN.md, written atomically: files go into `step-N.tmp/`, each is
/// fsynced, trainer.json (with every file's checksum) last, then the folder is renamed and the
/// parent folder fsynced. A folder without a valid trainer.json or with a wrong checksum is not
/// a checkpoint.
public enum Checkpoint {
    /// The folder name of the checkpoint at `step` (`step-00001234`).
    public static func folderName(step: Int) -> String { String(format: "step-%08d", step) }

    /// Writes a snapshot under `directory` and returns the final folder.
    @discardableResult
    public static func write(_ snapshot: CheckpointSnapshot, in directory: String) throws -> String {
        let fm = FileManager.default
        try makeDirectory(directory)
        let final = directory + "/" + folderName(step: snapshot.manifest.step)
        let tmp = final + ".tmp"
        try? fm.removeItem(atPath: tmp)
        try makeDirectory(tmp)
        // A failed write leaves no half-written folder behind to hold the disk space.
        var finished = false
        defer { if !finished { try? fm.removeItem(atPath: tmp) } }
        var manifest = snapshot.manifest
        let model = Safetensors.encode(snapshot.model, metadata: ["format": "pt"], int64: snapshot.modelCounters)
        let optimizer = Safetensors.encode(snapshot.optimizer, metadata: snapshot.optimizerMetadata)
        var files = [(modelFile, model), (optimizerFile, optimizer)]
        if let best = snapshot.bestModel {
            files.append(
                (bestModelFile, Safetensors.encode(best, metadata: ["format": "pt"], int64: snapshot.modelCounters)))
        }
        for (name, bytes) in files {
            try writeSynced(bytes, to: tmp + "/" + name)
            manifest.files[name] = .init(bytes: bytes.count, crc32: Checksum.crc32(of: bytes))
            FaultInjection.hooks?.checkpointFileWritten()
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeSynced([UInt8](try enc.encode(manifest)), to: tmp + "/" + manifestFile)
        try syncDirectory(tmp)
        finished = true
        if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }  // same step written again (resume)
        guard rename(tmp, final) == 0 else {
            throw CheckpointError(path: final, message: "rename failed: \(String(cString: strerror(errno)))")
        }
        try syncDirectory(directory)
        return final
    }

    /// Reads and validates a folder's trainer.json: format, version, every field's range.
    public static func manifest(in path: String) throws -> CheckpointManifest {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let json = FileManager.default.contents(atPath: folder + "/" + manifestFile) else {
            throw CheckpointError(path: folder, message: "no trainer.json (not a checkpoint, or an incomplete one)")
        }
        let manifest: CheckpointManifest
        do { manifest = try JSONDecoder().decode(CheckpointManifest.self, from: json) } catch {
            throw CheckpointError(
                path: folder + "/" + manifestFile,
                message: "damaged or hand-edited, unreadable: \(Checkpoint.describe(error))")
        }
        guard manifest.format == CheckpointManifest.formatName else {
            throw CheckpointError(
                path: folder + "/" + manifestFile,
                message: "format is '\(manifest.format.prefix(40))', not a Tandem checkpoint")
        }
        guard manifest.version == CheckpointManifest.currentVersion else {
            throw CheckpointError(
                path: folder + "/" + manifestFile,
                message:
                    "checkpoint version \(manifest.version); this Tandem reads version "
                    + "\(CheckpointManifest.currentVersion)"
            )
        }
        if let problem = manifest.problems().first {
            throw CheckpointError(path: folder + "/" + manifestFile, message: "damaged or hand-edited: \(problem)")
        }
        return manifest
    }

    /// The parameters and buffers, with PyTorch's names and layouts.
    public static let modelFile = "model.safetensors"
    /// The optimizer's state tensors.
    public static let optimizerFile = "optimizer.safetensors"
    /// The manifest (``CheckpointManifest``), written last: a folder without it is no checkpoint.
    public static let manifestFile = "trainer.json"
    /// The file holding early stopping's best weights (only with restore_best).
    public static let bestModelFile = "best_model.safetensors"
    /// Every file a checkpoint folder may hold.
    public static let files: Set<String> = [modelFile, optimizerFile, manifestFile, bestModelFile]

    /// Reads and verifies a checkpoint folder: manifest, version, every file's size and checksum.
    public static func read(_ path: String) throws -> (
        manifest: CheckpointManifest, model: Safetensors.Contents, optimizer: Safetensors.Contents,
        bestModel: Safetensors.Contents?
    ) {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        let manifest = try self.manifest(in: folder)
        let best = manifest.files[bestModelFile] != nil ? [bestModelFile] : []
        for name in [modelFile, optimizerFile] + best {
            guard let record = manifest.files[name] else {
                throw CheckpointError(path: folder, message: "trainer.json lists no checksum for \(name)")
            }
            guard let actual = Checksum.crc32(file: folder + "/" + name) else {
                throw CheckpointError(path: folder + "/" + name, message: "missing")
            }
            guard actual.bytes == record.bytes && actual.crc == record.crc32 else {
                throw CheckpointError(
                    path: folder + "/" + name,
                    message:
                        "checksum mismatch (\(actual.bytes) bytes, crc32 \(actual.crc); trainer.json says "
                        + "\(record.bytes) bytes, crc32 \(record.crc32)): the file is damaged"
                )
            }
        }
        let model = try Safetensors.read(folder + "/" + modelFile)
        let optimizer = try Safetensors.read(folder + "/" + optimizerFile)
        let bestModel = try best.first.map { try Safetensors.read(folder + "/" + $0) }
        return (manifest, model, optimizer, bestModel)
    }

    /// A JSONDecoder error in one line: which field, and what was wrong with it.
    static func describe(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(
                of: ".[", with: "[")
        }
        switch error as? DecodingError {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return (c.codingPath.isEmpty ? "" : path(c.codingPath) + ": ") + c.debugDescription
        case .keyNotFound(let key, let c):
            return "missing field \(path(c.codingPath + [key]))"
        default:
            // Foundation's file errors wrap errno: say it as the C library does ("No space left on device").
            let ns = error as NSError
            let file = (ns.userInfo[NSFilePathErrorKey] as? String).map { $0 + ": " } ?? ""
            if let posix = (ns.userInfo[NSUnderlyingErrorKey] as? NSError), posix.domain == NSPOSIXErrorDomain {
                return file + String(cString: strerror(Int32(posix.code)))
            }
            if ns.domain == NSPOSIXErrorDomain { return file + String(cString: strerror(Int32(ns.code))) }
            return "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }

    /// Checkpoint folders under `directory`, newest step first (temporary ones excluded).
    /// Ordered by the parsed step, not as text: past step 10^8 the names grow a digit.
    public static func candidates(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let steps = names.compactMap { name -> (step: Int, name: String)? in
            guard name.hasPrefix("step-"), let n = Int(name.dropFirst(5)), n >= 0 else { return nil }
            return (n, name)
        }
        return steps.sorted { $0.step > $1.step }.map { directory + "/" + $0.name }
    }

    /// The newest checkpoint that verifies; each skipped folder is reported through `warn`.
    public static func newestValid(in directory: String, warn: (String) -> Void) -> String? {
        for c in candidates(in: directory) {
            do {
                _ = try read(c)
                return c
            } catch { warn("skipping \(error)") }
        }
        return nil
    }

    /// Removes all but the newest `keepLast` checkpoints (and `keep`, the best one, if given).
    public static func prune(in directory: String, keepLast: Int, keep: String?) {
        for (i, c) in candidates(in: directory).enumerated() where i >= keepLast && c != keep {
            try? FileManager.default.removeItem(atPath: c)
        }
        // Leftover temporary folders come from interrupted writes.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for n in names where n.hasSuffix(".tmp") { try? FileManager.default.removeItem(atPath: directory + "/" + n) }
    }

    static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else {
                throw CheckpointError(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        guard fsync(fd) == 0 else {
            throw CheckpointError(path: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// mkdir that accepts an existing folder and reports errno in its own words.
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw CheckpointError(path: path, message: "cannot create the folder: \(String(cString: strerror(errno)))")
        }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else {
            throw CheckpointError(
                path: path, message: "cannot open folder to fsync: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw CheckpointError(path: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }
}
