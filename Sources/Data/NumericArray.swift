/// Rows of a numeric array in a file (a `.npy`, or a member of a `.npz`), converted to Float32
/// only when a batch asks for them: the values stay in the file (see `FileBytes`). A row is one
/// sample: the values after the first extent. Subsets and prefixes are views over the same file.
public final class NumericArray: Sendable {
    /// The bytes the values are read from.
    public let file: FileBytes
    /// The stored element type.
    public let dtype: NPY.DType
    /// Extents of the whole array in the file; the first is the number of rows there.
    public let shape: [Int]
    let dataOffset: Int
    /// Sample i is row `rowMap[i]` of the file (nil: row i).
    let rowMap: [Int]?
    /// Samples in this view.
    public let count: Int

    /// The array `header` describes in `file`; C order only (Fortran order gets one line).
    public init(file: FileBytes, header: NPY.Header, name: String) throws {
        guard !header.shape.isEmpty else { throw DataError("\(name): a 0-d array has no samples (shape ())") }
        if header.fortranOrder && header.shape.count > 1 {
            throw DataError(
                "\(name): Fortran-order arrays are not supported (a sample's values would be scattered over the "
                    + "file); save np.ascontiguousarray(x)")
        }
        self.file = file
        dtype = header.dtype
        shape = header.shape
        dataOffset = header.dataOffset
        rowMap = nil
        count = header.shape[0]
    }

    private init(_ base: NumericArray, rowMap: [Int]?, count: Int) {
        file = base.file
        dtype = base.dtype
        shape = base.shape
        dataOffset = base.dataOffset
        self.rowMap = rowMap
        self.count = count
    }

    /// Values per row.
    public var rowValues: Int { shape.dropFirst().reduce(1, *) }

    /// The samples `ids` of this view, in that order.
    public func rows(_ ids: [Int]) -> NumericArray {
        NumericArray(self, rowMap: ids.map { rowMap?[$0] ?? $0 }, count: ids.count)
    }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> NumericArray {
        NumericArray(self, rowMap: rowMap.map { Array($0.prefix(n)) }, count: min(n, count))
    }

    /// Writes sample `i`'s values times `scale` plus `shift` to `dst`.
    public func load(_ i: Int, into dst: UnsafeMutablePointer<Float>, scale: Float = 1, shift: Float = 0) {
        let n = rowValues
        let bytes = n * dtype.size
        file.withBytes(at: dataOffset + (rowMap?[i] ?? i) * bytes, length: bytes) { src in
            NumericArray.convert(src, dtype, n, into: dst, scale: scale, shift: shift)
        }
    }

    /// Every value of the view as Float32, row after row (targets, labels).
    public func allValues() -> [Float] {
        let n = rowValues
        return [Float](unsafeUninitializedCapacity: count * n) { buffer, initialized in
            for i in 0..<count { load(i, into: buffer.baseAddress! + i * n) }
            initialized = count * n
        }
    }

    /// Converts `n` values of `dtype` at `src` (any alignment) to Float32.
    static func convert(
        _ src: UnsafeRawPointer, _ dtype: NPY.DType, _ n: Int, into dst: UnsafeMutablePointer<Float>, scale: Float,
        shift: Float
    ) {
        func run<T: FixedWidthInteger>(_: T.Type, _ value: (T) -> Float) {
            for j in 0..<n {
                let raw = src.loadUnaligned(fromByteOffset: j * MemoryLayout<T>.size, as: T.self)
                dst[j] = value(dtype.bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)) * scale + shift
            }
        }
        switch (dtype.kind, dtype.size) {
        case (.float, 4): run(UInt32.self) { Float(bitPattern: $0) }
        case (.float, _): run(UInt64.self) { Float(Double(bitPattern: $0)) }
        case (.signed, 1): run(Int8.self) { Float($0) }
        case (.signed, 2): run(Int16.self) { Float($0) }
        case (.signed, 4): run(Int32.self) { Float($0) }
        case (.signed, _): run(Int64.self) { Float($0) }
        case (.unsigned, 2): run(UInt16.self) { Float($0) }
        case (.unsigned, 4): run(UInt32.self) { Float($0) }
        case (.unsigned, 8): run(UInt64.self) { Float($0) }
        default: run(UInt8.self) { Float($0) }  // uint8 and bool
        }
    }
}
