import CZlib
import Foundation
import Tandem

/// One entry point per reader of untrusted input, shared by the bounded mutation tests in the
/// suite (Tests/FuzzTests) and the coverage-guided libFuzzer harness (Tests/FuzzHarness).
/// An input must end in an error or a valid result; a trap, a hang or a runaway allocation is
/// the finding. Valid results are checked for internal consistency, not just accepted.
public enum FuzzTargets {
    public enum Reader: String, CaseIterable, Sendable {
        case safetensors, idx
        case idxGzip = "idx-gz"
        case csv, yaml
        case trainerJSON = "trainer-json"
        case text
        case npy, npz
    }

    /// A folder for the files a reader needs on disk (one per process).
    public static let scratch: String = {
        let path = NSTemporaryDirectory() + "tandem-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path + "/ck", withIntermediateDirectories: true)
        return path
    }()

    /// Runs one input; returns whether the reader accepted it.
    @discardableResult
    public static func run(_ reader: Reader, _ bytes: [UInt8]) -> Bool {
        // FoundationEssentials (Swift 6.3.1) leaks 4 KiB on every FileManager.contents(atPath:) of
        // an empty file (docs/RELIABILITY.md); LeakSanitizer would report that, not Tandem. An
        // empty file is refused by every reader anyway (unit tests).
        if bytes.isEmpty && [.csv, .trainerJSON].contains(reader) { return false }
        switch reader {
        case .safetensors: return safetensors(bytes)
        case .idx: return idx(bytes, gzip: false)
        case .idxGzip: return idx(bytes, gzip: true)
        case .csv: return csv(bytes)
        case .yaml: return yaml(bytes)
        case .trainerJSON: return trainerJSON(bytes)
        case .text: return text(bytes)
        case .npy: return npy(bytes)
        case .npz: return npz(bytes)
        }
    }

    static func check(_ condition: Bool, _ what: @autoclosure () -> String) {
        if !condition { fatalError("fuzz: accepted an inconsistent result: \(what())") }
    }

    /// Text data: tokenization, then both splits' windows with a context the input decides.
    static func text(_ bytes: [UInt8]) -> Bool {
        guard let corpus = try? TextCorpus(utf8: bytes, source: "fuzz.txt") else { return false }
        check(corpus.tokens.allSatisfy { $0 >= 0 && Int($0) < corpus.vocabulary.count }, "token ids")
        let context = 1 + Int(bytes.first ?? 0) % 8
        let stride = 1 + Int(bytes.last ?? 0) % 5
        guard let train = try? corpus.windows(test: false, context: context, stride: stride, testFraction: 0.25)
        else { return false }
        check(train.count >= 1 && train.sampleShape == [context], "windows")
        return true
    }

    /// A .npy file: the header, then every value converted (the view must match its shape).
    static func npy(_ bytes: [UInt8]) -> Bool {
        let path = scratch + "/x.npy"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)),
            let a = try? NumPyData.open(NumPyData.ArrayRef(path: path))
        else { return false }
        check(a.count == a.shape[0] && a.allValues().count == a.count * a.rowValues, "npy shape \(a.shape)")
        return true
    }

    /// A .npz archive: the directory, then each member (stored or deflated) as an array.
    static func npz(_ bytes: [UInt8]) -> Bool {
        let path = scratch + "/x.npz"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)), let z = try? NPZ(path: path) else {
            return false
        }
        var accepted = false
        for name in z.names {
            guard let a = try? z.array(name) else { continue }
            check(a.allValues().count == a.count * a.rowValues, "npz member \(name) shape \(a.shape)")
            accepted = true
        }
        return accepted
    }

    static func safetensors(_ bytes: [UInt8]) -> Bool {
        guard let c = try? Safetensors.decode(bytes, file: "fuzz.safetensors") else { return false }
        for (name, t) in c.tensors { check(t.count == t.shape.reduce(1, *), "\(name) count") }
        return true
    }

    static func idx(_ bytes: [UInt8], gzip: Bool) -> Bool {
        let path = scratch + (gzip ? "/x.idx.gz" : "/x.idx")
        guard let f = gzopen(path, gzip ? "wb1" : "wbT") else { return false }
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
        guard let c = try? IDX.read(path) else { return false }
        check(c.shape.reduce(1, *) == c.bytes.count, "IDX shape \(c.shape) vs \(c.bytes.count) bytes")
        return true
    }

    static func csv(_ bytes: [UInt8]) -> Bool {
        let path = scratch + "/x.csv"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return false }
        var accepted = false
        for (task, missing) in [
            (CSVTable.Task.classification, CSVTable.MissingPolicy.mean), (.regression, .median),
            (.classification, .drop),
        ] {
            guard
                let d = try? CSVTable.load(
                    path: path, target: "label", task: task, missing: missing, testFraction: 0.3, seed: 1)
            else { continue }
            accepted = true
            check(d.train.count > 0 && d.test.count > 0, "empty split")
            if let rows = try? CSVTable.predictionRows(path: path, schema: d.schema) {
                check(rows.sampleShape == d.train.sampleShape, "prediction rows shape")
            }
        }
        return accepted
    }

    /// The input as a config file, and its first line as a `--set` value on a valid config.
    static func yaml(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed = (try? ConfigLoading.parse(text, file: "fuzz.yaml")) != nil
        let line = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        let set = (try? ConfigLoading.parse(baseConfig, file: "base.yaml", overrides: [line])) != nil
        return parsed || set
    }

    static func trainerJSON(_ bytes: [UInt8]) -> Bool {
        guard FileManager.default.createFile(atPath: scratch + "/ck/trainer.json", contents: Data(bytes)),
            let m = try? Checkpoint.manifest(in: scratch + "/ck")
        else { return false }
        check(m.problems().isEmpty, "manifest with problems \(m.problems())")
        _ = try? TrainingConfig.parse(m.config.value, file: "trainer.json")
        return true
    }

    /// A valid config for `--set` inputs.
    public static let baseConfig = """
        name: fuzz
        seed: 1
        data: {dataset: linear-regression, samples: 64, test_samples: 16}
        model: [{linear: {out: 8}}, relu, {linear: {out: 1}}]
        loss: mse
        optimizer: {name: adamw, lr: 0.01, schedule: cosine, warmup_steps: 2}
        train: {epochs: 2, batch_size: 16}
        checkpoint: {every_steps: 10, keep_last: 2}
        determinism: {mode: exact, virtual_shards: 4}
        """
}
