import Glibc

/// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
///
/// A draw is a pure function of (key, counter): no hidden state, so any sample's randomness can
/// be recomputed on any rank, in any order, after any resume. Tandem keys streams by the config
/// seed and puts (purpose, step or epoch, index) in the counter (see DESIGN.md).
public struct Philox: Sendable {
    /// What a stream is for; distinct purposes never share a counter.
    public enum Purpose: UInt32, Sendable {
        case initialization = 1
        case shuffle = 2
        case dropout = 3
        case augmentation = 4
        case data = 5
        case test = 6
        /// Drawing tokens from a trained model (`tandem generate`).
        case sampling = 7
    }

    let k0: UInt32, k1: UInt32

    /// A generator for a 64-bit seed.
    public init(seed: UInt64) {
        k0 = UInt32(truncatingIfNeeded: seed)
        k1 = UInt32(truncatingIfNeeded: seed >> 32)
    }

    /// 128 random bits for counter (c0, c1, c2, c3).
    @inline(__always)
    public func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var (x0, x1, x2, x3) = (c0, c1, c2, c3)
        var (a, b) = (k0, k1)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(x0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(x2)
            (x0, x1, x2, x3) = (
                UInt32(truncatingIfNeeded: p1 >> 32) ^ x1 ^ a, UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ x3 ^ b, UInt32(truncatingIfNeeded: p0)
            )
            a &+= 0x9E37_79B9
            b &+= 0xBB67_AE85
        }
        return (x0, x1, x2, x3)
    }

    /// 128 random bits for (purpose, layer, stream, index): stream is a step, epoch or parameter
    /// number, index a sample or element number, layer a module's position in the model.
    @inline(__always)
    public func bits(_ purpose: Purpose, layer: UInt32 = 0, stream: UInt32, index: UInt64) -> (
        UInt32, UInt32, UInt32, UInt32
    ) {
        block(
            UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32), stream,
            purpose.rawValue | (layer << 8))
    }

    /// Word j (0...3) of a block.
    @inline(__always) public static func lane(_ r: (UInt32, UInt32, UInt32, UInt32), _ j: Int) -> UInt32 {
        switch j {
        case 0: return r.0
        case 1: return r.1
        case 2: return r.2
        default: return r.3
        }
    }

    /// Uniform in [0, 1) from 24 random bits.
    @inline(__always) public static func unit(_ u: UInt32) -> Float { Float(u >> 8) * 0x1p-24 }

    /// Fills `out` with uniform values in [low, high): element i uses counter index i.
    public func fillUniform(
        _ out: UnsafeMutableBufferPointer<Float>, low: Float, high: Float,
        purpose: Purpose, layer: UInt32 = 0, stream: UInt32
    ) {
        let span = high - low
        var i = 0
        while i < out.count {
            let r = bits(purpose, layer: layer, stream: stream, index: UInt64(i / 4))
            for j in 0..<Swift.min(4, out.count - i) { out[i + j] = low + span * Philox.unit(Philox.lane(r, j)) }
            i += 4
        }
    }

    /// Fills `out` with normal values (Box-Muller on pairs of draws).
    public func fillNormal(
        _ out: UnsafeMutableBufferPointer<Float>, mean: Float, std: Float,
        purpose: Purpose, layer: UInt32 = 0, stream: UInt32
    ) {
        var i = 0
        while i < out.count {
            let r = bits(purpose, layer: layer, stream: stream, index: UInt64(i / 4))
            for pair in 0..<2 {
                let u1 = Double((Philox.lane(r, 2 * pair) >> 8) + 1) * 0x1p-24  // (0, 1]: log is finite
                let u2 = Double(Philox.lane(r, 2 * pair + 1) >> 8) * 0x1p-24
                let rad = (-2 * Glibc.log(u1)).squareRoot()
                if i < out.count {
                    out[i] = mean + std * Float(rad * Glibc.cos(2 * .pi * u2))
                    i += 1
                }
                if i < out.count {
                    out[i] = mean + std * Float(rad * Glibc.sin(2 * .pi * u2))
                    i += 1
                }
            }
        }
    }
}

extension Tensor {
    /// Uniform values in [low, high) drawn from the counter-based generator.
    public static func randomUniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64,
        purpose: Philox.Purpose = .initialization, layer: UInt32 = 0, stream: UInt32 = 0,
        requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        Philox(seed: seed).fillUniform(
            t.storage.buffer, low: low, high: high, purpose: purpose, layer: layer, stream: stream)
        return t
    }

    /// Normal values drawn from the counter-based generator.
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, seed: UInt64,
        purpose: Philox.Purpose = .initialization, layer: UInt32 = 0, stream: UInt32 = 0,
        requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        Philox(seed: seed).fillNormal(
            t.storage.buffer, mean: mean, std: std, purpose: purpose, layer: layer, stream: stream)
        return t
    }
}
