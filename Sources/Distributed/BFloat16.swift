/// bfloat16, the top 16 bits of a float32 (8 exponent bits, 7 mantissa bits), as gradient
/// compression puts it on the wire: float32 rounded to nearest even, NaN kept NaN. The same
/// rounding as the MPI operation in CMPI's shim, so every communicator sums alike.
public enum BFloat16 {
    /// `x` rounded to bfloat16, as its bit pattern.
    @inline(__always)
    public static func encode(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0 { return UInt16(bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The float32 a bfloat16 bit pattern stands for (exact).
    @inline(__always)
    public static func decode(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// `a + b` added in float32 and rounded to bfloat16 (one step of a compressed allreduce).
    @inline(__always)
    public static func sum(_ a: UInt16, _ b: UInt16) -> UInt16 { encode(decode(a) + decode(b)) }

    /// Rounds `count` floats into bfloat16 bit patterns.
    public static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = encode(src[i]) }
    }

    /// Widens `count` bfloat16 bit patterns back to floats.
    public static func decode(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = decode(src[i]) }
    }
}
