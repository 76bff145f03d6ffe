import Data

/// `data:` in a config: the dataset and how its samples become network input.
public struct DataConfig: Equatable, Sendable {
    /// How inputs are normalized (after bytes are scaled to [0, 1]).
    public enum Normalization: Equatable, Sendable {
        case none
        case fixed(mean: Float, std: Float)
        /// Mean and standard deviation of the training split's features.
        case auto
    }

    /// The dataset and its own keys.
    public var source: DatasetSpec
    /// Shuffle the training order each epoch.
    public var shuffle = true
    /// How inputs are normalized.
    public var normalization: Normalization = .none
    /// Use only the first N training (test) samples.
    public var limit: Int?
    /// Use only the first N test samples.
    public var testLimit: Int?
    /// Drop each epoch's incomplete last batch.
    public var dropLast = true
    /// Random horizontal flips and translations of training images.
    public var horizontalFlip = false
    /// Largest translation of training images, in pixels.
    public var cropPadding = 0
    /// Class labels as one-hot rows (for mse or bce_with_logits on classes).
    public var oneHot = false
    /// A seeded, class-stratified share of the training split held out for validation.
    public var validationSplit: Double?
    /// Background preparation of the next batch (measured: no gain on 2 cores; see ARCHITECTURE).
    public var prefetch = false

    /// Settings for `source` with every default.
    public init(_ source: DatasetSpec) { self.source = source }

    static func parse(_ d: ConfigReader) throws -> DataConfig {
        var data = DataConfig(try DatasetSpec.parse(d))
        data.shuffle = try d.bool("shuffle", default: true)
        data.normalization = try parseNormalization(d)
        data.limit = try d.optionalInt("limit", range: 1...Int.max)
        data.testLimit = try d.optionalInt("test_limit", range: 1...Int.max)
        if d.has("validation_split") {
            data.validationSplit = try d.double("validation_split", default: nil, "in (0, 1)") { $0 > 0 && $0 < 1 }
        } else {
            d.accept("validation_split")
        }
        if data.validationSplit != nil && data.source.hasOwnValidation {
            throw d.error("validation_split", "cannot be combined with validation data of its own; use one of them")
        }
        data.dropLast = try d.bool("drop_last", default: true)
        data.prefetch = try d.bool("prefetch", default: false)
        data.oneHot = try d.bool("one_hot", default: false)
        if d.has("augment") {
            let a = try d.section("augment")
            data.horizontalFlip = try a.bool("horizontal_flip", default: false)
            data.cropPadding = try a.int("crop_padding", default: 0, range: 0...16)
            try a.finish()
        } else {
            d.accept("augment")
        }
        try d.finish()
        if case .text = data.source {
            // Inputs are token ids: scaling them would make them no ids at all.
            if data.normalization != .none {
                throw d.error("normalize", "does not apply to text (inputs are token ids)")
            }
            if data.horizontalFlip || data.cropPadding > 0 || data.oneHot {
                throw d.error(data.oneHot ? "one_hot" : "augment", "does not apply to text")
            }
        }
        return data
    }

    /// `normalize: auto` or `normalize: {mean, std}`.
    static func parseNormalization(_ d: ConfigReader) throws -> Normalization {
        guard d.has("normalize") else {
            d.accept("normalize")
            return .none
        }
        if d.values["normalize"] as? String == "auto" {
            d.accept("normalize")
            return .auto
        }
        let n = try d.section("normalize")
        let mean = try n.float("mean")
        let std = try n.float("std", default: nil, "positive") { $0 > 0 }
        try n.finish()
        return .fixed(mean: mean, std: std)
    }

    var configValue: [String: Any] {
        var v = source.configValue
        v["shuffle"] = shuffle
        v["drop_last"] = dropLast
        v["prefetch"] = prefetch
        v["one_hot"] = oneHot
        switch normalization {
        case .none: break
        case .auto: v["normalize"] = "auto"
        case .fixed(let mean, let std): v["normalize"] = ["mean": decimal(mean), "std": decimal(std)]
        }
        if let limit { v["limit"] = limit }
        if let testLimit { v["test_limit"] = testLimit }
        if let validationSplit { v["validation_split"] = validationSplit }
        if horizontalFlip || cropPadding > 0 {
            v["augment"] = ["horizontal_flip": horizontalFlip, "crop_padding": cropPadding]
        }
        return v
    }
}
