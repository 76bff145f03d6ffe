import CKernels

/// Small loops that the compiler cannot vectorize on its own because Float addition is not
/// associative: they keep several partial sums in SIMD registers instead of one serial chain.
enum Kernels {
    /// Sum of n floats, in eight-wide partial sums.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>()
        var acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            acc0 += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            acc1 += UnsafeRawPointer(p + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n {
            s += p[i]
            i += 1
        }
        return s
    }

    /// Sum of n floats accumulated in Float64 (for losses and metrics), four-wide.
    @inline(__always) static func sumDouble(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc = SIMD4<Double>()
        var i = 0
        while i + 4 <= n {
            acc += SIMD4<Double>(Double(p[i]), Double(p[i + 1]), Double(p[i + 2]), Double(p[i + 3]))
            i += 4
        }
        var s = acc.sum()
        while i < n {
            s += Double(p[i])
            i += 1
        }
        return s
    }
}

/// Whole-buffer passes that other targets (gradient buckets, optimizers) run on raw memory.
public enum VectorOps {
    /// Multiplies n floats by `scale` in place and reports whether all results are finite, in
    /// one eight-wide pass (x * 0 is NaN exactly when x is NaN or infinite).
    public static func scale(_ p: UnsafeMutablePointer<Float>, _ n: Int, by scale: Float) -> Bool {
        var probe = SIMD8<Float>()
        var i = 0
        let s = SIMD8<Float>(repeating: scale)
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) * s
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
            probe += v * 0
            i += 8
        }
        var tail: Float = 0
        while i < n {
            p[i] *= scale
            tail += p[i] * 0
            i += 1
        }
        return !(probe.sum() + tail).isNaN
    }

    /// Whether all n floats are finite: one eight-wide read-only pass, the same test as
    /// ``scale(_:_:by:)``'s.
    public static func allFinite(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        var probe = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            probe += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < n {
            tail += p[i] * 0
            i += 1
        }
        return !(probe.sum() + tail).isNaN
    }
}

extension VectorOps {
    /// One Adam/AdamW update over n parameters:
    /// g' = g + wd p; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
    /// p = p * shrink - stepSize * m / (sqrt(v) / c2Sqrt + eps).
    /// In C (CKernels): restrict pointers, vector sqrt and an AVX2 clone make it 8-wide, where
    /// the Swift form compiled to 4-wide SSE with a scalar sqrt per lane.
    @inline(__always)
    public static func adam(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
        _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ n: Int,
        beta1: Float, beta2: Float, eps: Float, weightDecay: Float, shrink: Float,
        stepSize: Float, c2Sqrt: Float
    ) {
        Parallel.forEachBlock(n, block: Parallel.elementBlock) { i, end in
            tandem_adam(
                p + i, g + i, m + i, v + i, end - i, beta1, beta2, eps, weightDecay, shrink, stepSize, 1 / c2Sqrt)
        }
    }

    /// Whether any of n floats is NaN: the largest magnitude bit pattern, an integer maximum the
    /// compiler vectorizes (NaN patterns are above +infinity's 0x7f800000).
    @inline(__always) static func containsNaN(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        let bits = UnsafeRawPointer(p).assumingMemoryBound(to: UInt32.self)
        var m: UInt32 = 0
        for i in 0..<n { m = Swift.max(m, bits[i] & 0x7fff_ffff) }
        return m > 0x7f80_0000
    }
}
