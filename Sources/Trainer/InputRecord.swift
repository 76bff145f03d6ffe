import Data

/// How raw samples became network input in a run (trainer.json's `input`): normalization as
/// resolved (also `normalize: auto`, computed from the training split), the sample shape, the
/// targets, and for CSV data the feature columns with their fill values. With it a checkpoint
/// alone is enough to predict: no training data is read.
public struct InputRecord: Codable, Equatable, Sendable {
    /// Subtracted from inputs (after bytes are scaled to [0, 1]).
    public var mean: Float
    /// Inputs are divided by this.
    public var std: Float
    /// Whether labels were one-hot targets.
    public var oneHot: Bool
    /// The shape of one sample.
    public var sampleShape: [Int]
    /// Class count for class labels; nil for numeric targets.
    public var classes: Int?
    /// Values per sample for numeric targets.
    public var targetWidth: Int?
    /// For CSV data: the columns and fill values.
    public var csv: CSVColumns?
    /// For text data: the vocabulary, one character per token id, in order.
    public var vocabulary: String?

    /// The CSV columns a model was trained on.
    public struct CSVColumns: Codable, Equatable, Sendable {
        /// Feature columns in input order.
        public var features: [String]
        /// The target column.
        public var target: String
        /// The missing-value policy.
        public var missing: String
        /// Fill value per feature column.
        public var fills: [Float]
    }

    enum CodingKeys: String, CodingKey {
        case mean, std
        case oneHot = "one_hot"
        case sampleShape = "sample_shape"
        case classes
        case targetWidth = "target_width"
        case csv, vocabulary
    }

    /// The record of a run's data.
    public init(_ data: TrainingData) {
        let p = data.preprocessing
        mean = p.mean
        std = p.std
        oneHot = p.oneHot
        sampleShape = data.train.sampleShape
        classes = data.train.classCount
        if case .values(_, let w) = data.train.targets { targetWidth = w }
        vocabulary = data.vocabulary.map { String(String.UnicodeScalarView($0)) }
        csv = data.csvSchema.map {
            CSVColumns(features: $0.featureNames, target: $0.target, missing: $0.missing.rawValue, fills: $0.fills)
        }
    }

    /// Preprocessing for prediction and evaluation (no augmentation).
    public var preprocessing: Preprocessing { Preprocessing(mean: mean, std: std, oneHot: oneHot) }

    /// The CSV schema new rows are read with.
    public var csvSchema: CSVTable.Schema? {
        guard let csv, let missing = CSVTable.MissingPolicy(rawValue: csv.missing) else { return nil }
        return CSVTable.Schema(featureNames: csv.features, target: csv.target, missing: missing, fills: csv.fills)
    }

    /// Ranges of every field (it sizes the model and the input buffers).
    func problems() -> [String] {
        var p: [String] = []
        if !mean.isFinite || !std.isFinite || std <= 0 {
            p.append("input.mean/std \(mean)/\(std) are not a finite mean and a positive std")
        }
        let dims = sampleShape.allSatisfy { (1...(1 << 24)).contains($0) }
        if !(1...4).contains(sampleShape.count) || !dims || sampleShape.reduce(1, { $0 &* $1 }) > 1 << 31 {
            p.append(
                "input.sample_shape \(sampleShape.prefix(8)) is not 1 to 4 extents of at most 2^31 elements in all")
        }
        if let c = classes, !(1...(1 << 24)).contains(c) { p.append("input.classes \(c) is outside 1...\(1 << 24)") }
        if let w = targetWidth, !(1...(1 << 24)).contains(w) {
            p.append("input.target_width \(w) is outside 1...\(1 << 24)")
        }
        if let csv,
            csv.fills.count != csv.features.count || !csv.fills.allSatisfy(\.isFinite)
                || CSVTable.MissingPolicy(rawValue: csv.missing) == nil
                || csv.features.count != sampleShape.reduce(1, *)
        {
            p.append("input.csv does not match the sample shape (features, fills, missing policy)")
        }
        if let vocabulary {
            let scalars = Array(vocabulary.unicodeScalars)
            if scalars.count != classes || !zip(scalars, scalars.dropFirst()).allSatisfy({ $0.value < $1.value }) {
                p.append("input.vocabulary is not \(classes ?? 0) distinct characters in order")
            }
        }
        return p
    }

    /// The vocabulary as characters in token order (text data).
    public var vocabularyScalars: [Unicode.Scalar]? { vocabulary.map { Array($0.unicodeScalars) } }
}
