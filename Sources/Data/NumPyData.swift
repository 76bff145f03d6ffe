/// Datasets from NumPy arrays: inputs `x` of any numeric dtype and shape (the first extent counts
/// the samples; values are used as stored, converted to Float32 per batch) and targets `y`:
/// integer labels give classes, floating-point values give regression targets.
public enum NumPyData {
    /// Where an array is: a `.npy` file, or the array `name` of a `.npz` archive at `path`.
    public struct ArrayRef: Equatable, Sendable, CustomStringConvertible {
        /// The .npy or .npz file.
        public var path: String
        /// The array's name inside a .npz; nil for a .npy.
        public var name: String?
        /// A reference to a .npy file, or to array `name` of a .npz.
        public init(path: String, name: String? = nil) {
            self.path = path
            self.name = name
        }
        /// The file, and the array's name in brackets for a .npz member.
        public var description: String { name.map { "\(path)[\($0)]" } ?? path }
    }

    /// The inputs and targets of one split.
    public struct Split: Equatable, Sendable {
        /// The inputs.
        public var x: ArrayRef
        /// The labels or targets.
        public var y: ArrayRef
        /// A split from its two arrays.
        public init(x: ArrayRef, y: ArrayRef) {
            self.x = x
            self.y = y
        }
    }

    /// Largest class label accepted (labels size the model's output and one-hot rows).
    public static let maxClasses = 1 << 24

    /// Opens one array (its values stay in the file).
    public static func open(_ ref: ArrayRef) throws -> NumericArray {
        if let name = ref.name { return try NPZ(path: ref.path).array(name) }
        let file = try FileBytes(path: ref.path)
        return try NumericArray(file: file, header: try NPY.header(in: file, name: ref.path), name: ref.path)
    }

    /// Reads the splits (`nil` entries stay nil); every split's labels must be classes or every
    /// split's must be values, and classes are counted over all of them.
    public static func load(_ splits: [Split?]) throws -> [Dataset?] {
        let opened = try splits.map { split in try split.map { ($0, try open($0.x), try open($0.y)) } }
        let kinds = Set(opened.compactMap { $0?.2.dtype.isInteger })
        guard kinds.count <= 1 else {
            throw DataError(
                "\(splits.compactMap { $0?.y }.map(\.description).joined(separator: ", ")): some label "
                    + "arrays are integers (classes) and some floats (regression targets); use one kind")
        }
        var labels: [[Float]?] = []
        var classes = 0
        for entry in opened {
            guard let (s, x, y) = entry else {
                labels.append(nil)
                continue
            }
            guard x.count > 0 else { throw DataError("\(s.x): the array has no samples (its first extent is 0)") }
            guard y.count == x.count else {
                throw DataError("\(s.y): \(y.count) targets for the \(x.count) samples of \(s.x)")
            }
            let values = y.allValues()
            if y.dtype.isInteger {
                guard y.rowValues == 1 else {
                    throw DataError("\(s.y): class labels must be one per sample, shape (n,)")
                }
                if let bad = values.firstIndex(where: { !($0 >= 0 && $0 < Float(maxClasses)) }) {
                    throw DataError("\(s.y): label \(values[bad]) of sample \(bad) is outside 0..<\(maxClasses)")
                }
                classes = max(classes, Int(values.max() ?? 0) + 1)
            }
            labels.append(values)
        }
        return try zip(opened, labels).map { entry, values in
            guard let (s, x, y) = entry, let values else { return nil }
            let sampleShape = x.shape.count == 1 ? [1] : Array(x.shape.dropFirst())
            guard sampleShape.count <= 4 else {
                throw DataError("\(s.x): samples of shape \(sampleShape) have more than 4 extents")
            }
            let targets: Dataset.Targets =
                y.dtype.isInteger
                ? .classes(values.map { Int32($0) }, classes: classes) : .values(values, width: y.rowValues)
            return try Dataset(
                features: .mapped(x), targets: targets, sampleShape: sampleShape, source: s.x.description)
        }
    }
}
