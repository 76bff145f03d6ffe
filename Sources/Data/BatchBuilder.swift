/// How samples become network input.
public struct Preprocessing: Sendable {
    /// Subtract this (after scaling bytes to [0, 1]).
    public var mean: Float
    /// Divide by this.
    public var std: Float
    /// Labels as one-hot rows in `targets` (for MSE on classes).
    public var oneHot: Bool
    /// Random horizontal flip of images (training only).
    public var horizontalFlip: Bool
    /// Random translation by up to this many pixels, filling with zeros (training only).
    public var cropPadding: Int

    /// Normalization and augmentation settings (the defaults change nothing).
    public init(
        mean: Float = 0, std: Float = 1, oneHot: Bool = false, horizontalFlip: Bool = false, cropPadding: Int = 0
    ) {
        self.mean = mean
        self.std = std
        self.oneHot = oneHot
        self.horizontalFlip = horizontalFlip
        self.cropPadding = cropPadding
    }
}

/// One rank's share of a global batch, ready for the network.
public struct Batch {
    /// Inputs [n, sampleShape...].
    public let x: Tensor
    /// Class labels (classification; a sequence's labels one after another), else empty.
    public let labels: [Int]
    /// Regression targets [n, width] or one-hot labels; nil for plain classification.
    public let targets: Tensor?
    /// Dataset index of each row (keys dropout and augmentation).
    public let ids: [Int]
    /// Rows in this share.
    public var count: Int { ids.count }
}

/// Gathers samples by index, converts to Float32 with scaling and normalisation in one pass,
/// and augments images with draws keyed by (seed, epoch, sample index).
public struct BatchBuilder {
    /// The samples batches are gathered from.
    public let dataset: Dataset
    /// Scaling, normalization and augmentation applied per batch.
    public let preprocessing: Preprocessing
    /// The run's seed: augmentation draws derive from it.
    public let seed: UInt64

    /// A builder of batches from `dataset`.
    public init(dataset: Dataset, preprocessing: Preprocessing, seed: UInt64) {
        self.dataset = dataset
        self.preprocessing = preprocessing
        self.seed = seed
    }

    /// The batch of samples `ids`; augmented when `augment` (training) and configured.
    public func make(ids: [Int], epoch: Int, augment: Bool) -> Batch {
        let shape = dataset.sampleShape
        let per = shape.reduce(1, *)
        let x = Tensor.empty([ids.count] + shape)
        let xs = x.data
        let inv = 1 / preprocessing.std
        let shift = -preprocessing.mean / preprocessing.std
        switch dataset.features {
        case .bytes(let bytes):
            let a = inv / 255
            bytes.withUnsafeBufferPointer { b in
                for (r, id) in ids.enumerated() {
                    let src = b.baseAddress! + id * per
                    let dst = xs + r * per
                    for j in 0..<per { dst[j] = Float(src[j]) * a + shift }
                }
            }
        case .floats(let floats):
            floats.withUnsafeBufferPointer { f in
                for (r, id) in ids.enumerated() {
                    let src = f.baseAddress! + id * per
                    let dst = xs + r * per
                    for j in 0..<per { dst[j] = src[j] * inv + shift }
                }
            }
        case .mapped(let a):
            for (r, id) in ids.enumerated() { a.load(id, into: xs + r * per, scale: inv, shift: shift) }
        case .source(let s):
            for (r, id) in ids.enumerated() { s.load(id, into: xs + r * per, per: per, scale: inv, shift: shift) }
        }
        if augment && shape.count == 3 && (preprocessing.horizontalFlip || preprocessing.cropPadding > 0) {
            augmentImages(x, ids: ids, epoch: epoch, fill: shift)
        }
        var labels: [Int] = []
        var targets: Tensor? = nil
        switch dataset.targets {
        case .classes(let l, let classes):
            labels = ids.map { Int(l[$0]) }
            if preprocessing.oneHot {
                let t = Tensor(zeros: [ids.count, classes])
                for (r, c) in labels.enumerated() { t.data[r * classes + c] = 1 }
                targets = t
            }
        case .tokens(let l, _, let length):
            labels.reserveCapacity(ids.count * length)
            for id in ids { for k in 0..<length { labels.append(Int(l[id * length + k])) } }
        case .values(let v, let width):
            let t = Tensor.empty([ids.count, width])
            for (r, id) in ids.enumerated() { for k in 0..<width { t.data[r * width + k] = v[id * width + k] } }
            targets = t
        }
        return Batch(x: x, labels: labels, targets: targets, ids: ids)
    }

    /// Flip and translate each image [C, H, W] in place; `fill` is the normalised value of 0.
    func augmentImages(_ x: Tensor, ids: [Int], epoch: Int, fill: Float) {
        let (c, h, w) = (dataset.sampleShape[0], dataset.sampleShape[1], dataset.sampleShape[2])
        let per = c * h * w
        let pad = preprocessing.cropPadding
        let gen = Philox(seed: seed)
        var scratch = [Float](repeating: 0, count: per)
        for (r, id) in ids.enumerated() {
            let bits = gen.bits(.augmentation, stream: UInt32(truncatingIfNeeded: epoch), index: UInt64(id))
            let flip = preprocessing.horizontalFlip && bits.0 & 1 == 1
            let span = UInt64(2 * pad + 1)
            let dy = pad > 0 ? Int((UInt64(bits.1) &* span) >> 32) - pad : 0
            let dx = pad > 0 ? Int((UInt64(bits.2) &* span) >> 32) - pad : 0
            if !flip && dx == 0 && dy == 0 { continue }
            let img = x.data + r * per
            scratch.withUnsafeMutableBufferPointer { s in
                for ch in 0..<c {
                    for i in 0..<h {
                        for j in 0..<w {
                            // Output pixel (i, j) reads input (i + dy, j' + dx), j' mirrored when flipped.
                            let si = i + dy
                            let sj = (flip ? w - 1 - j : j) + dx
                            s[(ch * h + i) * w + j] =
                                si >= 0 && si < h && sj >= 0 && sj < w ? img[(ch * h + si) * w + sj] : fill
                        }
                    }
                }
                img.update(from: s.baseAddress!, count: per)
            }
        }
    }
}
