import Data

/// Where a run's samples come from (`data.dataset` and the keys that belong to it), and how to
/// load both splits. Adding a dataset touches this file only.
public enum DatasetSpec: Equatable, Sendable {
    /// Fashion-MNIST (Debian's `dataset-fashion-mnist` by default) or any MNIST-style IDX folder.
    case fashionMNIST(path: String? = nil)
    case mnist(path: String? = nil)
    case csv(CSVSource)
    /// y = 3x + 2 + noise.
    case linearRegression(samples: Int = 1024, testSamples: Int = 256)
    /// Next value of a sine wave from `steps` previous ones.
    case sine(samples: Int = 1024, testSamples: Int = 256, steps: Int = 20)
    /// A UTF-8 text file, character level: windows of `context` tokens and their next tokens.
    case text(TextSource)
    /// NumPy arrays (`.npy` files or `.npz` members) for each split.
    case numpy(NumPySource)
    /// Samples given from Swift code (`TrainingData`), described by `source`: only in a
    /// checkpoint's config, never loaded from it.
    case swift(source: String)

    /// `data.dataset: npy`: x and y arrays of the training and test splits (and a validation split).
    public struct NumPySource: Equatable, Sendable {
        /// The training arrays.
        public var train: NumPyData.Split
        /// The test arrays.
        public var test: NumPyData.Split
        /// Validation arrays, if given.
        public var validation: NumPyData.Split?
        /// The arrays of each split.
        public init(train: NumPyData.Split, test: NumPyData.Split, validation: NumPyData.Split? = nil) {
            self.train = train
            self.test = test
            self.validation = validation
        }
    }

    /// `data.dataset: text` and its keys.
    public struct TextSource: Equatable, Sendable {
        /// The text file.
        public var path: String
        /// Tokens per sample.
        public var context: Int
        /// Distance between window starts (default: the context, windows side by side).
        public var stride: Int
        /// The file's tail held out as the test split.
        public var testFraction: Double = 0.1
        /// A text source; `stride` defaults to `context`.
        public init(path: String, context: Int, stride: Int? = nil, testFraction: Double = 0.1) {
            self.path = path
            self.context = context
            self.stride = stride ?? context
            self.testFraction = testFraction
        }
    }

    /// A CSV file with a header row and a target column.
    public struct CSVSource: Equatable, Sendable {
        /// The CSV file.
        public var path: String
        /// The target column.
        public var target: String
        /// Classification or regression.
        public var task: CSVTable.Task = .classification
        /// What missing feature values become.
        public var missing: CSVTable.MissingPolicy = .error
        /// A separate test file; otherwise `testFraction` of the rows, seeded.
        public var testPath: String?
        /// The seeded share of rows held out for testing (without `testPath`).
        public var testFraction: Double = 0.2
        /// A separate validation file, read with the training file's columns and classes.
        public var validationPath: String?
        /// A CSV source with every default.
        public init(path: String, target: String) {
            self.path = path
            self.target = target
        }
    }

    /// The `data.dataset` values.
    public static let names = ["fashion-mnist", "mnist", "csv", "linear-regression", "sine", "text", "npy"]

    /// The `data.dataset` value.
    public var name: String {
        switch self {
        case .fashionMNIST: return "fashion-mnist"
        case .mnist: return "mnist"
        case .csv: return "csv"
        case .linearRegression: return "linear-regression"
        case .sine: return "sine"
        case .text: return "text"
        case .numpy: return "npy"
        case .swift: return "swift"
        }
    }

    /// Whether samples are bytes scaled by 1/255 before normalization (the MNIST family's pixels).
    public var storesBytes: Bool {
        switch self {
        case .fashionMNIST, .mnist: return true
        default: return false
        }
    }

    /// Whether the dataset names validation data itself (CSV validation_path, npy validation).
    var hasOwnValidation: Bool {
        switch self {
        case .csv(let c): return c.validationPath != nil
        case .numpy(let n): return n.validation != nil
        default: return false
        }
    }

    /// A text dataset's window length (`data.context`), which `positional` layers are sized by.
    public var context: Int? {
        if case .text(let t) = self { return t.context }
        return nil
    }

    /// The splits, what new inputs are read with (a CSV's schema, a text's vocabulary); errors
    /// name the file. `validation` only where the dataset names its own validation data.
    func load(seed: UInt64) throws -> Splits {
        switch self {
        case .csv(let c):
            let t = try CSVTable.load(
                path: c.path, target: c.target, task: c.task, missing: c.missing,
                testPath: c.testPath, testFraction: c.testFraction, validationPath: c.validationPath, seed: seed)
            return Splits(train: t.train, test: t.test, validation: t.validation, schema: t.schema)
        case .text(let t):
            let corpus = try TextCorpus.read(t.path)
            func split(_ test: Bool) throws -> Dataset {
                try corpus.windows(test: test, context: t.context, stride: t.stride, testFraction: t.testFraction)
            }
            return Splits(train: try split(false), test: try split(true), vocabulary: corpus.vocabulary)
        case .numpy(let n):
            let d = try NumPyData.load([n.train, n.test, n.validation])
            return Splits(train: d[0]!, test: d[1]!, validation: d[2])
        case .swift(let source): throw DatasetSpec.givenFromSwift(source)
        default:
            return Splits(train: try load(.train, seed: seed), test: try load(.test, seed: seed))
        }
    }

    /// What `load(seed:)` gives.
    struct Splits {
        var train: Dataset
        var test: Dataset
        var validation: Dataset? = nil
        var schema: CSVTable.Schema? = nil
        var vocabulary: [Unicode.Scalar]? = nil
    }

    /// The training or test split; for the MNIST family and the synthetic sets only that split is
    /// read or made (a CSV's test rows may be a share of the same file, so it is read whole).
    public func load(_ split: Trainer.Split, seed: UInt64) throws -> Dataset {
        precondition(split != .validation, "DatasetSpec.load: the validation split comes from TrainingData.load")
        let train = split == .train
        switch self {
        case .fashionMNIST(let path), .mnist(let path):
            do {
                return try MNISTFamily.load(directory: path ?? MNISTFamily.defaultPath, train: train)
            } catch let e as MissingDatasetFile {
                throw DataError(
                    "\(e.path): no such file; "
                        + (e.isDebianDefault
                            ? "install it with `apt-get install dataset-fashion-mnist` or point data.path at a "
                                + "folder with the IDX files"
                            : "set data.path to a folder holding the MNIST-style IDX files"))
            }
        case .linearRegression(let samples, let testSamples):
            return try Synthetic.linearRegression(
                count: train ? samples : testSamples, seed: seed, split: train ? 0 : 1)
        case .sine(let samples, let testSamples, let steps):
            return try Synthetic.sineSequences(
                count: train ? samples : testSamples, steps: steps, seed: seed, split: train ? 0 : 1)
        case .numpy(let n):
            return try NumPyData.load([nil, train ? n.train : n.test])[1]!
        case .csv, .text:
            let both = try load(seed: seed)
            return train ? both.train : both.test
        case .swift(let source): throw DatasetSpec.givenFromSwift(source)
        }
    }

    static func givenFromSwift(_ source: String) -> DataError {
        DataError(
            "the run's data (\(source.prefix(200))) was given from Swift code: there is no file to load it from; "
                + "pass a TrainingData to the Trainer, or a --data file where the command takes one")
    }

    /// Reads `dataset` and the keys that belong to it from the data section.
    static func parse(_ d: ConfigReader) throws -> DatasetSpec {
        let name = try d.string("dataset", choices: names + (d.fromCheckpoint ? ["swift"] : []))
        switch name {
        case "swift": return .swift(source: try d.string("source"))
        case "fashion-mnist", "mnist":
            let path = try d.optionalString("path")
            return name == "mnist" ? .mnist(path: path) : .fashionMNIST(path: path)
        case "csv": return .csv(try parseCSV(d))
        case "npy": return .numpy(try parseNumPy(d))
        case "text":
            guard d.has("path") else {
                d.accept("path")
                throw d.error("path", "is required for dataset text (a UTF-8 text file)")
            }
            let path = try d.string("path")
            let context = try d.int("context", range: 1...65_536)
            return .text(
                TextSource(
                    path: path, context: context, stride: try d.int("stride", default: context, range: 1...65_536),
                    testFraction: try d.double("test_fraction", default: 0.1, "in (0, 1)") { $0 > 0 && $0 < 1 }))
        default:
            let samples = try d.int("samples", default: 1024, range: 1...10_000_000)
            let testSamples = try d.int("test_samples", default: 256, range: 1...10_000_000)
            guard name == "sine" else { return .linearRegression(samples: samples, testSamples: testSamples) }
            return .sine(
                samples: samples, testSamples: testSamples, steps: try d.int("steps", default: 20, range: 1...10_000))
        }
    }

    /// dataset: csv's keys.
    static func parseCSV(_ d: ConfigReader) throws -> CSVSource {
        guard d.has("path") else {
            d.accept("path")
            throw d.error("path", "is required for dataset csv")
        }
        var c = CSVSource(path: try d.string("path"), target: try d.string("target"))
        c.task =
            CSVTable.Task(
                rawValue: try d.string(
                    "task", default: "classification", choices: CSVTable.Task.allCases.map(\.rawValue)))
            ?? .classification
        c.missing =
            CSVTable.MissingPolicy(
                rawValue: try d.string(
                    "missing", default: "error",
                    choices: CSVTable.MissingPolicy.allCases.map(\.rawValue))) ?? .error
        c.testPath = try d.optionalString("test_path")
        c.testFraction = try d.double("test_fraction", default: 0.2, "in (0, 1)") { $0 > 0 && $0 < 1 }
        c.validationPath = try d.optionalString("validation_path")
        return c
    }

    /// dataset: npy's keys: train and test (and validation) splits, each a .npy per array or one .npz.
    static func parseNumPy(_ d: ConfigReader) throws -> NumPySource {
        func split(_ key: String) throws -> NumPyData.Split {
            let s = try d.section(key)
            let npz = try s.optionalString("npz")
            // A .npy file each, or array names in one .npz (default x and y).
            func ref(_ k: String) throws -> NumPyData.ArrayRef {
                guard let npz else { return NumPyData.ArrayRef(path: try s.string(k)) }
                return NumPyData.ArrayRef(path: npz, name: try s.string(k, default: k))
            }
            let out = NumPyData.Split(x: try ref("x"), y: try ref("y"))
            try s.finish()
            return out
        }
        guard d.has("train"), d.has("test") else {
            d.accept("train")
            d.accept("test")
            throw d.error(d.has("train") ? "test" : "train", "is required for dataset npy ({x: X.npy, y: Y.npy})")
        }
        return NumPySource(
            train: try split("train"), test: try split("test"),
            validation: d.has("validation") ? try split("validation") : nil)
    }

    /// Its keys in the data section.
    var configValue: [String: Any] {
        var v: [String: Any] = ["dataset": name]
        switch self {
        case .fashionMNIST(let path), .mnist(let path):
            if let path { v["path"] = path }
        case .csv(let c):
            v["path"] = c.path
            v["target"] = c.target
            v["task"] = c.task.rawValue
            v["missing"] = c.missing.rawValue
            if let t = c.testPath { v["test_path"] = t }
            v["test_fraction"] = c.testFraction
            if let p = c.validationPath { v["validation_path"] = p }
        case .linearRegression(let samples, let testSamples):
            v["samples"] = samples
            v["test_samples"] = testSamples
        case .sine(let samples, let testSamples, let steps):
            v["samples"] = samples
            v["test_samples"] = testSamples
            v["steps"] = steps
        case .text(let t):
            v["path"] = t.path
            v["context"] = t.context
            v["stride"] = t.stride
            v["test_fraction"] = t.testFraction
        case .numpy(let n):
            func value(_ s: NumPyData.Split) -> [String: Any] {
                if let npz = s.x.name.map({ _ in s.x.path }) {
                    return ["npz": npz, "x": s.x.name!, "y": s.y.name ?? "y"]
                }
                return ["x": s.x.path, "y": s.y.path]
            }
            v["train"] = value(n.train)
            v["test"] = value(n.test)
            if let val = n.validation { v["validation"] = value(val) }
        case .swift(let source): v["source"] = source
        }
        return v
    }
}
