import CKernels
import COneDNN
import Foundation
import Synchronization

/// The number format matrix products read their inputs in.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// float32 everywhere.
    case fp32
    /// bfloat16 inputs to matrix products (linear layers, attention's products, recurrent
    /// layers, im2col convolutions), accumulated in float32 into float32 outputs; every other op,
    /// the gradients and the master weights stay float32 (PyTorch's CPU autocast lists).
    case bf16
}

/// Autocast for matrix products: inside `run(.bf16) { ... }` every `BLAS.gemm` and
/// `BLAS.batchedGemm` on this thread rounds its two inputs to bfloat16 and runs oneDNN's bf16
/// kernel (float32 accumulation). The setting is per thread, so simulated ranks and parallel
/// tests never see each other's. Parameters named in `caching` are cast once per scope (a
/// training step), not once per product.
public enum Autocast {
    /// Runs `body` with this thread's matrix products in `precision`; restores the previous
    /// setting afterwards. `caching`: tensors that do not change inside `body` (the weights).
    public static func run<R>(
        _ precision: ComputePrecision, caching parameters: [Tensor] = [], _ body: () throws -> R
    ) rethrows -> R {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[key]
        let bf16 = precision == .bf16
        dictionary[key] = bf16 ? Context(parameters: parameters) : nil
        if bf16 { openScopes.add(1, ordering: .relaxed) }
        defer {
            dictionary[key] = previous
            if bf16 { openScopes.subtract(1, ordering: .relaxed) }
        }
        return try body()
    }

    /// This thread's bf16 scope, if it is in one. Every product asks, so a process with no scope
    /// open on any thread (every fp32 run) answers from one atomic load, not the thread's
    /// dictionary.
    static var context: Context? {
        openScopes.load(ordering: .relaxed) == 0 ? nil : Thread.current.threadDictionary[key] as? Context
    }

    /// bf16 scopes open on all threads. Checked before the dictionary: while one is open, an
    /// fp32 scope inside it still masks it through the dictionary.
    private static let openScopes = Atomic<Int>(0)

    /// The precision of this thread's matrix products now.
    public static var precision: ComputePrecision { context == nil ? .fp32 : .bf16 }

    /// Whether this CPU computes bf16 products natively (AVX512_BF16 or AMX): elsewhere bf16
    /// still trains, with inputs rounded to bf16 and float32 products (slower than fp32).
    public static let isNative =
        tandem_has_avx512bf16() != 0 && (oneDNNISA == "avx512_core_bf16" || oneDNNISA == "avx512_core_amx")

    /// The instruction set oneDNN's kernels use on this CPU.
    static let oneDNNISA = String(cString: tandem_onednn_isa())

    /// The bf16 path for the start line: "oneDNN avx512_core_bf16", or why it is emulated.
    public static var pathDescription: String {
        let isa = oneDNNISA
        return isNative
            ? "oneDNN \(isa)"
            : "emulated (oneDNN \(isa): no AVX512_BF16 or AMX; inputs rounded to bf16, float32 products, "
                + "expect about fp32's speed or slower)"
    }

    private static let key = "tandem.autocast"

    /// A scope's state: the parameters whose casts are kept, and the casts made so far.
    final class Context {
        /// Start pointer -> element count of each cacheable tensor (it stays alive in `keep`).
        private let cacheable: [UnsafeMutablePointer<Float>: Int]
        private let keep: [Tensor]
        private var casts: [CastKey: BF16Buffer] = [:]

        struct CastKey: Hashable {
            let pointer: UnsafePointer<Float>
            let rows: Int, columns: Int, ld: Int
        }

        init(parameters: [Tensor]) {
            keep = parameters
            cacheable = Dictionary(parameters.map { ($0.data, $0.count) }, uniquingKeysWith: { a, _ in a })
        }

        /// Two operands' scratch copies, grown as needed and reused by every product of the scope
        /// (a buffer per product churned the heap: the transformer's peak RSS grew by a fifth).
        private var scratch: [BF16Buffer?] = [nil, nil]

        /// Operand `slot`'s (0: A, 1: B) scratch buffer of at least `count` elements.
        func scratch(_ slot: Int, count: Int) -> BF16Buffer {
            if let s = scratch[slot], s.count >= count { return s }
            scratch[slot] = nil  // freed before the larger one is made
            let made = BF16Buffer(count: count)
            scratch[slot] = made
            return made
        }

        /// rows x columns of `p` (leading dimension `ld`) in bf16: a cacheable tensor's cast, made
        /// once per scope, or a fresh cast into operand `slot`'s scratch buffer.
        func cast(_ p: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int, slot: Int) -> BF16Buffer {
            if let cached = cachedCast(p, rows: rows, columns: columns, ld: ld) { return cached }
            let buffer = scratch(slot, count: rows * columns)
            tandem_f32_to_bf16_2d(p, rows, columns, ld, buffer.base, BF16Buffer.native)
            return buffer
        }

        /// A cacheable tensor's cast, made once per scope; nil for anything else.
        func cachedCast(_ p: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int) -> BF16Buffer? {
            guard let count = cacheable[UnsafeMutablePointer(mutating: p)], rows * ld - (ld - columns) <= count
            else { return nil }
            let key = CastKey(pointer: p, rows: rows, columns: columns, ld: ld)
            if let known = casts[key] { return known }
            let made = BF16Buffer(casting: p, rows: rows, columns: columns, ld: ld)
            casts[key] = made
            return made
        }
    }
}

/// A compact bfloat16 matrix (64-byte aligned), cast from float32.
final class BF16Buffer {
    let base: UnsafeMutablePointer<UInt16>
    let count: Int

    init(count: Int) {
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, Swift.max(count, 1) * 2) == 0, let raw else {
            fatalError("BF16Buffer: out of memory allocating \(count * 2) bytes")
        }
        base = raw.bindMemory(to: UInt16.self, capacity: Swift.max(count, 1))
        self.count = count
    }

    /// rows x columns of `p` (leading dimension `ld`), rounded to bfloat16.
    convenience init(casting p: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int) {
        self.init(count: rows * columns)
        tandem_f32_to_bf16_2d(p, rows, columns, ld, base, BF16Buffer.native)
    }

    deinit { free(base) }

    /// The AVX512_BF16 conversion where the CPU has it (same bits as the portable loop).
    static let native: Int32 = tandem_has_avx512bf16() != 0 ? 1 : 0

    /// `values` rounded to bfloat16 bit patterns, by the native instruction or the portable loop.
    static func cast(_ values: [Float], native: Int32) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, n in
            if let out = buffer.baseAddress { tandem_f32_to_bf16(values, out, values.count, native) }
            n = values.count
        }
    }

    /// The first `count` values widened back to float32 (for CPUs without a bf16 kernel).
    func widened(count: Int) -> TensorStorage {
        let s = TensorStorage(count: count, zeroed: false)
        tandem_bf16_to_f32(base, s.base, count)
        return s
    }
}
