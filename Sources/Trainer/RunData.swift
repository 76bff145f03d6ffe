import Data
import Foundation

/// The training, validation and test sets of a run, with how their samples become network input.
public struct TrainingData: Sendable {
    /// The training split (without the validation share).
    public var train: Dataset
    /// The test split.
    public var test: Dataset
    /// Held-out data evaluated during training (what keep_best and early stopping watch).
    public var validation: Dataset?
    /// How samples become network input.
    public var preprocessing: Preprocessing
    /// For CSV data: the feature columns and fill values new rows must be read with.
    public var csvSchema: CSVTable.Schema?
    /// For text data: the characters, in token order.
    public var vocabulary: [Unicode.Scalar]?

    /// Data from its splits.
    public init(
        train: Dataset, test: Dataset, validation: Dataset? = nil, preprocessing: Preprocessing = Preprocessing()
    ) {
        self.train = train
        self.test = test
        self.validation = validation
        self.preprocessing = preprocessing
    }

    /// Loads what `config.data` names; errors name the file and say what to do.
    public static func load(_ config: TrainingConfig) throws -> TrainingData {
        let d = config.data
        let splits = try d.source.load(seed: config.seed)
        var (train, test, validation) = (splits.train, splits.test, splits.validation)
        if let limit = d.limit { train = try train.prefix(limit) }
        if let limit = d.testLimit { test = try test.prefix(limit) }
        if let fraction = d.validationSplit {
            let (kept, held) = train.validationSplit(fraction: fraction, seed: config.seed)
            guard !kept.isEmpty, !held.isEmpty else {
                throw DataError(
                    "\(train.source): \(train.count) training samples are too few for validation_split \(fraction)")
            }
            validation = try train.subset(held, source: train.source + " (validation share)")
            train = try train.subset(kept, source: train.source)
        }
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
        var loaded = TrainingData(train: train, test: test, validation: validation, preprocessing: p)
        loaded.csvSchema = splits.schema
        loaded.vocabulary = splits.vocabulary
        return loaded
    }
}
