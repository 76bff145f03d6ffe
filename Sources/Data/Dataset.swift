@_exported import Tensor

/// Samples held compactly in memory: images as bytes, tables and sequences as floats, with
/// class labels or regression targets. Batches are converted to Float32 on demand.
public final class Dataset: Sendable {
    /// Feature storage.
    public enum Features: Sendable {
        /// One byte per value (images); converted per batch.
        case bytes([UInt8])
        /// Float values (tables, sequences).
        case floats([Float])
        /// Values of any numeric type left in their file (NumPy arrays), converted per batch.
        case mapped(NumericArray)
        /// Samples of a user's own type, read as batches need them (see `SampleSource`).
        case source(SourceRows)
    }
    /// What a sample is to be predicted as.
    public enum Targets: Sendable {
        /// Class indices in 0..<classes.
        case classes([Int32], classes: Int)
        /// `width` values per sample.
        case values([Float], width: Int)
        /// A class index for each of `length` positions per sample (next-token targets).
        case tokens([Int32], classes: Int, length: Int)
    }

    /// The inputs of every sample, sample after sample.
    public let features: Features
    /// What each sample is to be predicted as.
    public let targets: Targets
    /// Shape of one sample, e.g. [1, 28, 28], [features] or [time, features].
    public let sampleShape: [Int]
    /// Number of samples.
    public let count: Int
    /// Where it came from, for messages.
    public let source: String

    /// A dataset, checked: features divide into samples of `sampleShape`, targets match the
    /// sample count, labels lie in range.
    public init(features: Features, targets: Targets, sampleShape: [Int], source: String) throws {
        let per = sampleShape.reduce(1, *)
        let featureCount: Int
        switch features {
        case .bytes(let b): featureCount = b.count
        case .floats(let f): featureCount = f.count
        case .mapped(let a):
            guard a.rowValues == per else {
                throw DataError("\(source): rows of \(a.rowValues) values do not match samples of shape \(sampleShape)")
            }
            featureCount = a.count * per
        case .source(let s): featureCount = s.count * per
        }
        guard per > 0, featureCount % per == 0 else {
            throw DataError(
                "\(source): \(featureCount) feature values do not divide into samples of shape \(sampleShape)")
        }
        let n = featureCount / per
        guard n > 0 else { throw DataError("\(source): the dataset is empty") }
        switch targets {
        case .classes(let labels, let classes):
            guard labels.count == n else {
                throw DataError("\(source): \(n) samples but \(labels.count) labels")
            }
            if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
                throw DataError("\(source): label \(labels[bad]) of sample \(bad) is outside 0..<\(classes)")
            }
        case .values(let v, let width):
            guard width > 0, v.count == n * width else {
                throw DataError("\(source): \(n) samples but \(v.count) target values (width \(width))")
            }
        case .tokens(let labels, let classes, let length):
            guard length > 0, labels.count == n * length else {
                throw DataError("\(source): \(n) samples of \(length) positions but \(labels.count) targets")
            }
            if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
                throw DataError("\(source): target \(labels[bad]) at position \(bad) is outside 0..<\(classes)")
            }
        }
        self.features = features
        self.targets = targets
        self.sampleShape = sampleShape
        self.count = n
        self.source = source
    }

    /// Number of classes, or nil for regression.
    public var classCount: Int? {
        switch targets {
        case .classes(_, let c), .tokens(_, let c, _): return c
        case .values: return nil
        }
    }

    /// Class labels per sample: 1, or the positions of a sequence's next-token targets.
    public var labelsPerSample: Int {
        if case .tokens(_, _, let length) = targets { return length }
        return 1
    }

    /// The first `n` samples (a `limit` for quick runs).
    public func prefix(_ n: Int) throws -> Dataset {
        guard n < count else { return self }
        let per = sampleShape.reduce(1, *)
        let f: Features
        switch features {
        case .bytes(let b): f = .bytes(Array(b[0..<n * per]))
        case .floats(let x): f = .floats(Array(x[0..<n * per]))
        case .mapped(let a): f = .mapped(a.prefix(n))
        case .source(let s): f = .source(s.rows(Array(0..<n)))
        }
        let t: Targets
        switch targets {
        case .classes(let l, let c): t = .classes(Array(l[0..<n]), classes: c)
        case .values(let v, let w): t = .values(Array(v[0..<n * w]), width: w)
        case .tokens(let l, let c, let length): t = .tokens(Array(l[0..<n * length]), classes: c, length: length)
        }
        return try Dataset(features: f, targets: t, sampleShape: sampleShape, source: source)
    }

    /// Mean and standard deviation of all feature values (bytes scaled to [0, 1]).
    public func featureMoments() -> (mean: Double, std: Double) {
        var s = 0.0
        var s2 = 0.0
        var n = 0
        switch features {
        case .bytes(let b):
            var hist = [Int](repeating: 0, count: 256)
            for v in b { hist[Int(v)] += 1 }
            for (v, c) in hist.enumerated() {
                let x = Double(v) / 255
                s += x * Double(c)
                s2 += x * x * Double(c)
            }
            n = b.count
        case .floats(let f):
            for v in f {
                s += Double(v)
                s2 += Double(v) * Double(v)
            }
            n = f.count
        case .mapped(let a):
            var row = [Float](repeating: 0, count: a.rowValues)
            for i in 0..<a.count {
                row.withUnsafeMutableBufferPointer { a.load(i, into: $0.baseAddress!) }
                for v in row {
                    s += Double(v)
                    s2 += Double(v) * Double(v)
                }
            }
            n = a.count * a.rowValues
        case .source(let src):
            let per = sampleShape.reduce(1, *)
            var row = [Float](repeating: 0, count: per)
            for i in 0..<src.count {
                row.withUnsafeMutableBufferPointer { src.load(i, into: $0.baseAddress!, per: per, scale: 1, shift: 0) }
                for v in row {
                    s += Double(v)
                    s2 += Double(v) * Double(v)
                }
            }
            n = src.count * per
        }
        let mean = s / Double(max(n, 1))
        return (mean, max(s2 / Double(max(n, 1)) - mean * mean, 0).squareRoot())
    }
}
