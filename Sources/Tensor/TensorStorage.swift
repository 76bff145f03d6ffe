import CBLAS
import Glibc

/// A flat, 64-byte-aligned buffer of Float32 values, or a window into another one.
///
/// A view (`owner != nil`) keeps its owner alive and never frees memory: this is how a
/// parameter's gradient lives inside a flat communication bucket without a copy.
public final class TensorStorage {
    /// First element.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    let owner: TensorStorage?

    /// Keeps freed activation buffers in the heap for reuse: by default glibc returns blocks over
    /// 128 KiB to the kernel on free, and every step then page-faults its activations in again
    /// (measured: a few percent of a CNN step in clear_page and page-fault handling).
    static let allocatorTuned: Bool = {
        mallopt(M_MMAP_THRESHOLD, 32 << 20)
        mallopt(M_TRIM_THRESHOLD, 256 << 20)
        return true
    }()

    /// Allocates `count` elements, zero-filled when `zeroed`.
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        _ = TensorStorage.allocatorTuned
        var raw: UnsafeMutableRawPointer? = nil
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("TensorStorage: out of memory allocating \(bytes) bytes")
        }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        owner = nil
        if zeroed { base.initialize(repeating: 0, count: count) }
    }

    /// A window of `count` elements starting `offset` elements into `owner`.
    public init(viewing owner: TensorStorage, offset: Int, count: Int) {
        precondition(
            offset >= 0 && offset + count <= owner.count,
            "TensorStorage: view [\(offset), \(offset + count)) outside a buffer of \(owner.count)")
        base = owner.base + offset
        self.count = count
        self.owner = owner
    }

    deinit { if owner == nil { free(base) } }

    /// The elements as a Swift buffer.
    @inline(__always) public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }
}
