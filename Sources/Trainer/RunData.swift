import Data
import Foundation

/// The training and test sets of a run, with how their samples become network input.
public struct TrainingData {
    public var train: Dataset
    public var test: Dataset
    public var preprocessing: Preprocessing
    /// For CSV data: the feature columns and fill values new rows must be read with.
    public var csvSchema: CSVTable.Schema?

    public init(train: Dataset, test: Dataset, preprocessing: Preprocessing = Preprocessing()) {
        self.train = train; self.test = test; self.preprocessing = preprocessing
    }

    /// Loads what `config.data` names; errors name the file and say what to do.
    public static func load(_ config: TrainingConfig) throws -> TrainingData {
        let d = config.data
        var train: Dataset, test: Dataset, schema: CSVTable.Schema? = nil
        switch d.dataset {
        case "fashion-mnist", "mnist":
            let dir = d.path ?? MNISTFamily.defaultPath
            train = try MNISTFamily.load(directory: dir, train: true)
            test = try MNISTFamily.load(directory: dir, train: false)
        case "csv":
            guard let path = d.path, let target = d.target else { throw DataError("data.path and data.target are required for csv") }
            (train, test, schema) = try CSVTable.load(path: path, target: target, task: CSVTable.Task(rawValue: d.task ?? "classification")!,
                                              missing: CSVTable.MissingPolicy(rawValue: d.missing)!, testPath: d.testPath,
                                              testFraction: d.testFraction, seed: config.seed)
        case "linear-regression":
            train = try Synthetic.linearRegression(count: d.samples, seed: config.seed, split: 0)
            test = try Synthetic.linearRegression(count: d.testSamples, seed: config.seed, split: 1)
        case "sine":
            train = try Synthetic.sineSequences(count: d.samples, steps: d.steps, seed: config.seed, split: 0)
            test = try Synthetic.sineSequences(count: d.testSamples, steps: d.steps, seed: config.seed, split: 1)
        default:
            throw DataError("data.dataset '\(d.dataset)' is not one of \(TrainingConfig.datasets.joined(separator: ", "))")
        }
        if let limit = d.limit { train = try train.prefix(limit) }
        if let limit = d.testLimit { test = try test.prefix(limit) }
        var mean = d.normalizeMean ?? 0, std = d.normalizeStd ?? 1
        if d.normalizeAuto {   // from the training split only
            let m = train.featureMoments()
            mean = Float(m.mean); std = Float(max(m.std, 1e-6))
        }
        let p = Preprocessing(mean: mean, std: std, oneHot: d.oneHot,
                              horizontalFlip: d.horizontalFlip, cropPadding: d.cropPadding)
        var loaded = TrainingData(train: train, test: test, preprocessing: p)
        loaded.csvSchema = schema
        return loaded
    }
}
