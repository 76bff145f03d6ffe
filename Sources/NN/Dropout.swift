/// Inverted dropout, active in training mode only; its mask comes from the counter-based
/// generator keyed by (seed, step, layer, sample index), never from hidden state.
public final class Dropout: StochasticModule {
    /// Probability of zeroing a value in training.
    public let p: Float
    /// This layer's position, so two dropout layers draw different masks.
    public let layer: UInt32
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true
    /// Seed, step and sample ids that key this layer's random draws.
    public var randomContext = RandomContext()

    /// Dropout with probability `p`; `layer` keys its draws.
    public init(p: Float = 0.5, layer: UInt32 = 0) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        self.layer = layer
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && p > 0 else { return x }
        return x.dropout(mask: mask(for: x.shape), p: p)
    }

    /// The 0/1 mask for a batch of this shape under the current context.
    public func mask(for shape: [Int]) -> Tensor {
        let rows = shape.first ?? 1
        let per = shape.dropFirst().reduce(1, *)
        let m = Tensor.empty(shape)
        let ms = m.data
        let gen = Philox(seed: randomContext.seed)
        let threshold = UInt32((Double(p) * 65536).rounded())  // keep when a 16-bit draw >= p * 2^16
        let blocksPerRow = (per + 7) / 8  // 8 draws of 16 bits per block
        for r in 0..<rows {
            let id = UInt64(randomContext.sampleIDs?[r] ?? r)
            for b in 0..<blocksPerRow {
                let bits = gen.bits(
                    .dropout, layer: layer, stream: UInt32(truncatingIfNeeded: randomContext.step),
                    index: id &* UInt64(blocksPerRow) &+ UInt64(b))
                for j in 0..<Swift.min(8, per - b * 8) {
                    let word = Philox.lane(bits, j >> 1)
                    let draw = j & 1 == 0 ? word & 0xFFFF : word >> 16
                    ms[r * per + b * 8 + j] = draw >= threshold ? 1 : 0
                }
            }
        }
        return m
    }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
    public func outputShape(for input: [Int]) throws -> [Int] { input }
}
