/// An n-dimensional array of Float32 in contiguous row-major order, and a node of the autograd tape.
///
/// Images are NCHW. A tensor produced by an op while gradients are recorded remembers its
/// parents and how to push its gradient to them (see `Tensor+Autograd.swift`).
public final class Tensor {
    /// Extent of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The values (possibly a view into a larger buffer).
    public let storage: TensorStorage
    /// Accumulated gradient of the last `backward()`; for leaves that require it.
    public var grad: Tensor?
    /// Whether `backward()` computes a gradient for this tensor.
    public var requiresGrad: Bool
    /// Called once when this leaf's gradient is complete during `backward()`.
    public var onGradReady: ((Tensor) -> Void)?

    // The tape: inputs of the op that made this tensor, and its vector-Jacobian product.
    var parents: [Tensor] = []
    var pushGrad: ((Tensor, UnsafeMutablePointer<Float>) -> Void)?
    /// Name of the op that produced this tensor ("leaf" for created tensors).
    public internal(set) var op: String = "leaf"

    /// Wraps existing storage; the storage must hold exactly the shape's element count.
    public init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(
            storage.count == shape.reduce(1, *),
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        let s = TensorStorage(count: shape.reduce(1, *), zeroed: false)
        s.base.initialize(repeating: value, count: s.count)
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public convenience init(ones shape: [Int], requiresGrad: Bool = false) {
        self.init(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// A tensor holding `scalars` (row-major) in the given shape.
    public convenience init(_ scalars: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(
            scalars.count == shape.reduce(1, *),
            "Tensor: \(scalars.count) values do not fill shape \(shape)")
        let s = TensorStorage(count: scalars.count, zeroed: false)
        scalars.withUnsafeBufferPointer { s.base.initialize(from: $0.baseAddress!, count: $0.count) }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A scalar (rank-0) tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    /// Number of elements.
    @inline(__always) public var count: Int { storage.count }
    /// Number of axes.
    @inline(__always) public var rank: Int { shape.count }
    /// First element's address.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base }
    /// The values as a Swift array (a copy).
    public var scalars: [Float] { Array(storage.buffer) }
    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return data[0]
    }

    /// A copy of the values with no history.
    public func detached() -> Tensor {
        let s = TensorStorage(count: count, zeroed: false)
        s.base.initialize(from: data, count: count)
        return Tensor(shape: shape, storage: s)
    }

    /// Overwrites this tensor's values (no history) with `other`'s; shapes must have equal counts.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "Tensor.assign: shape \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first values.
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")], op: \(op))"
    }
}
