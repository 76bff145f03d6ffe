extension Safetensors {
    /// The element types Tandem reads; every one becomes Float32 on load (PyTorch users save
    /// F32, F64, F16 and BF16 weights, and I64 counters such as BatchNorm's num_batches_tracked).
    /// Tandem writes F32.
    enum DType: String {
        case f32 = "F32"
        case f64 = "F64"
        case f16 = "F16"
        case bf16 = "BF16"
        case i64 = "I64"

        /// Bytes per element.
        var size: Int {
            switch self {
            case .f32: return 4
            case .f64, .i64: return 8
            case .f16, .bf16: return 2
            }
        }

        /// `count` little-endian elements at `source` (any alignment) as Float32 into `out`.
        func convert(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
            switch self {
            case .f32:
                UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
            case .f64:
                for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            case .f16:
                for i in 0..<count {
                    out[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
                    out[i] = Float(bitPattern: bits)
                }
            case .i64:
                for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            }
        }
    }
}
