/// A shape or axis problem in an op: names the op and the shapes involved.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The op that refused its operands, e.g. "matmul".
    public let op: String
    /// What is wrong, with the shapes.
    public let message: String
    /// An error of `op`.
    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }
    /// The message as one line.
    public var description: String { "\(op): \(message)" }
}

/// Shape rules shared by the ops. Each throws a `ShapeError`; the ops themselves call them
/// through `checked`, which stops the program with that message (a programmer error), while
/// config validation calls them directly to report a bad model before training starts.
public enum Shapes {
    /// NumPy broadcasting of two shapes.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw ShapeError(op, "shapes \(a) and \(b) do not broadcast (axis \(i): \(da) vs \(db))")
            }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// An axis in `-rank..<rank`, made non-negative.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw ShapeError(op, "axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    /// Requires a rank, naming the op and the shape.
    public static func rank(_ shape: [Int], _ expected: Int, op: String, what: String = "input") throws {
        guard shape.count == expected else {
            throw ShapeError(op, "\(what) must have rank \(expected), got shape \(shape)")
        }
    }

    /// Output shape of `matmul`: [m,k]x[k,n], [b,m,k]x[b,k,n] or [b,m,k]x[k,n].
    public static func matmul(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard (a.count == 2 || a.count == 3) && (b.count == 2 || b.count == 3) && !(a.count == 2 && b.count == 3) else {
            throw ShapeError(
                "matmul", "unsupported ranks: \(a) x \(b) (need [m,k]x[k,n], [b,m,k]x[b,k,n] or [b,m,k]x[k,n])")
        }
        guard a[a.count - 1] == b[b.count - 2] else {
            throw ShapeError("matmul", "inner dimensions differ: \(a) x \(b)")
        }
        if a.count == 3 && b.count == 3 && a[0] != b[0] {
            throw ShapeError("matmul", "batch sizes differ: \(a) x \(b)")
        }
        return Array(a.dropLast()) + [b[b.count - 1]]
    }

    /// Output extent of a sliding window (conv, pool) along one axis.
    public static func window(_ size: Int, kernel: Int, stride: Int, padding: Int, op: String) throws -> Int {
        guard kernel > 0, stride > 0, padding >= 0 else {
            throw ShapeError(
                op,
                "kernel \(kernel), stride \(stride), padding \(padding): kernel and stride must be positive, padding "
                    + "not negative"
            )
        }
        let span = size + 2 * padding - kernel
        guard span >= 0 else {
            throw ShapeError(op, "kernel \(kernel) is larger than the padded input extent \(size + 2 * padding)")
        }
        return span / stride + 1
    }

    /// Output shape of conv2d for input [N,C,H,W] and weight [O,C,kh,kw].
    public static func conv2d(_ x: [Int], weight w: [Int], stride: Int, padding: Int) throws -> [Int] {
        try rank(x, 4, op: "conv2d")
        try rank(w, 4, op: "conv2d", what: "weight")
        guard x[1] == w[1] else {
            throw ShapeError("conv2d", "input \(x) has \(x[1]) channels, weight \(w) expects \(w[1])")
        }
        return [
            x[0], w[0],
            try window(x[2], kernel: w[2], stride: stride, padding: padding, op: "conv2d"),
            try window(x[3], kernel: w[3], stride: stride, padding: padding, op: "conv2d"),
        ]
    }

    /// Output shape of a 2-D pool over [N,C,H,W].
    public static func pool2d(_ x: [Int], kernel: Int, stride: Int, padding: Int, op: String) throws -> [Int] {
        try rank(x, 4, op: op)
        guard padding * 2 <= kernel else {
            throw ShapeError(op, "padding \(padding) must be at most half the kernel \(kernel)")
        }
        return [
            x[0], x[1],
            try window(x[2], kernel: kernel, stride: stride, padding: padding, op: op),
            try window(x[3], kernel: kernel, stride: stride, padding: padding, op: op),
        ]
    }
}

/// Evaluates a shape rule inside an op; a violation is a programmer error and stops with its message.
@inline(__always) func checked<T>(_ rule: () throws -> T) -> T {
    do { return try rule() } catch { preconditionFailure("\(error)") }
}

extension Array where Element == Int {
    /// Product of the extents (1 for a scalar shape).
    @inline(__always) var elementCount: Int { reduce(1, *) }
}
