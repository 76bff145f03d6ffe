import Data
import Foundation

/// The training and test sets of a run, with how their samples become network input.
public struct TrainingData: Sendable {
    public var train: Dataset
    public var test: Dataset
    public var preprocessing: Preprocessing
    /// For CSV data: the feature columns and fill values new rows must be read with.
    public var csvSchema: CSVTable.Schema?
    /// For text data: the characters, in token order.
    public var vocabulary: [Unicode.Scalar]?

    public init(train: Dataset, test: Dataset, preprocessing: Preprocessing = Preprocessing()) {
        self.train = train
        self.test = test
        self.preprocessing = preprocessing
    }

    /// Loads what `config.data` names; errors name the file and say what to do.
    public static func load(_ config: TrainingConfig) throws -> TrainingData {
        let d = config.data
        var (train, test, schema, vocabulary) = try d.source.load(seed: config.seed)
        if let limit = d.limit { train = try train.prefix(limit) }
        if let limit = d.testLimit { test = try test.prefix(limit) }
        var mean: Float = 0
        var std: Float = 1
        switch d.normalization {
        case .none: break
        case .fixed(let m, let s):
            mean = m
            std = s
        case .auto:  // from the training split only
            let m = train.featureMoments()
            mean = Float(m.mean)
            std = Float(max(m.std, 1e-6))
        }
        let p = Preprocessing(
            mean: mean, std: std, oneHot: d.oneHot,
            horizontalFlip: d.horizontalFlip, cropPadding: d.cropPadding)
        var loaded = TrainingData(train: train, test: test, preprocessing: p)
        loaded.csvSchema = schema
        loaded.vocabulary = vocabulary
        return loaded
    }
}
