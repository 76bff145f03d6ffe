/// How two operands' elements meet in a broadcasting binary op.
struct BroadcastPlan {
    enum Kind {
        case same, aScalar, bScalar
        case bRow(Int)
        case aRow(Int)
        case general
    }
    let shape: [Int]
    let kind: Kind
    let count: Int
    // Element strides of a and b over the output's axes (0 where broadcast).
    let aStrides: [Int], bStrides: [Int]

    init(_ a: [Int], _ b: [Int], op: String) {
        let shape = checked { try Shapes.broadcast(a, b, op: op) }
        self.shape = shape
        count = shape.elementCount
        aStrides = BroadcastPlan.strides(a, in: shape)
        bStrides = BroadcastPlan.strides(b, in: shape)
        let ac = a.elementCount
        let bc = b.elementCount
        let count = self.count
        if a == b {
            kind = .same
        } else if bc == 1 && ac == count {
            kind = .bScalar
        } else if ac == 1 && bc == count {
            kind = .aScalar
        } else if ac == count && Array(shape.suffix(b.count)) == b && b.count <= shape.count {
            kind = .bRow(bc)
        } else if bc == count && Array(shape.suffix(a.count)) == a && a.count <= shape.count {
            kind = .aRow(ac)
        } else {
            kind = .general
        }
    }

    static func strides(_ s: [Int], in shape: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: shape.count - s.count) + s
        var out = [Int](repeating: 0, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            out[i] = padded[i] == 1 ? 0 : acc
            acc *= padded[i]
        }
        return out
    }

    /// Same shapes: element o of a, b and the output meet. Such passes run in fixed blocks on
    /// Tandem's threads (the loop written in each block closure, so it compiles as tight as a
    /// serial one); broadcasts, which sum gradients over repeated elements, run in order.
    var isSame: Bool {
        if case .same = kind { return true }
        return false
    }

    /// Calls `body(outIndex, aIndex, bIndex)` for every output element in order.
    @inline(__always) func forEach(_ body: (Int, Int, Int) -> Void) {
        switch kind {
        case .same: for i in 0..<count { body(i, i, i) }
        case .bScalar: for i in 0..<count { body(i, i, 0) }
        case .aScalar: for i in 0..<count { body(i, 0, i) }
        case .bRow(let inner):
            var o = 0
            for _ in 0..<(inner == 0 ? 0 : count / inner) {
                for j in 0..<inner {
                    body(o, o, j)
                    o += 1
                }
            }
        case .aRow(let inner):
            var o = 0
            for _ in 0..<(inner == 0 ? 0 : count / inner) {
                for j in 0..<inner {
                    body(o, j, o)
                    o += 1
                }
            }
        case .general:
            let r = shape.count
            var idx = [Int](repeating: 0, count: r)
            var ia = 0
            var ib = 0
            for o in 0..<count {
                body(o, ia, ib)
                var ax = r - 1
                while ax >= 0 {
                    idx[ax] += 1
                    ia += aStrides[ax]
                    ib += bStrides[ax]
                    if idx[ax] < shape[ax] { break }
                    ia -= aStrides[ax] * shape[ax]
                    ib -= bStrides[ax] * shape[ax]
                    idx[ax] = 0
                    ax -= 1
                }
            }
        }
    }
}

extension Tensor {
    /// A tensor with unspecified contents, for code that fills every element itself.
    @inline(__always) public static func empty(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: shape.elementCount, zeroed: false))
    }

    /// Broadcasting `a + b`.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let p = BroadcastPlan(a.shape, b.shape, op: "add")
        let y = empty(p.shape)
        let ys = y.data
        let xa = a.data
        let xb = b.data
        if p.isSame {
            Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                for o in s..<e { ys[o] = xa[o] + xb[o] }
            }
        } else {
            p.forEach { o, i, j in ys[o] = xa[i] + xb[j] }
        }
        return record(y, "add", [a, b]) { _, g in
            if a.requiresGrad {
                let ga = a.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { ga[o] += g[o] }
                    }
                } else {
                    p.forEach { o, i, _ in ga[i] += g[o] }
                }
            }
            if b.requiresGrad {
                let gb = b.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { gb[o] += g[o] }
                    }
                } else {
                    p.forEach { o, _, j in gb[j] += g[o] }
                }
            }
        }
    }

    /// Broadcasting `a - b`.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let p = BroadcastPlan(a.shape, b.shape, op: "sub")
        let y = empty(p.shape)
        let ys = y.data
        let xa = a.data
        let xb = b.data
        if p.isSame {
            Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                for o in s..<e { ys[o] = xa[o] - xb[o] }
            }
        } else {
            p.forEach { o, i, j in ys[o] = xa[i] - xb[j] }
        }
        return record(y, "sub", [a, b]) { _, g in
            if a.requiresGrad {
                let ga = a.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { ga[o] += g[o] }
                    }
                } else {
                    p.forEach { o, i, _ in ga[i] += g[o] }
                }
            }
            if b.requiresGrad {
                let gb = b.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { gb[o] -= g[o] }
                    }
                } else {
                    p.forEach { o, _, j in gb[j] -= g[o] }
                }
            }
        }
    }

    /// Broadcasting elementwise `a * b`.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let p = BroadcastPlan(a.shape, b.shape, op: "mul")
        let y = empty(p.shape)
        let ys = y.data
        let xa = a.data
        let xb = b.data
        if p.isSame {
            Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                for o in s..<e { ys[o] = xa[o] * xb[o] }
            }
        } else {
            p.forEach { o, i, j in ys[o] = xa[i] * xb[j] }
        }
        return record(y, "mul", [a, b]) { _, g in
            if a.requiresGrad {
                let ga = a.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { ga[o] += g[o] * xb[o] }
                    }
                } else {
                    p.forEach { o, i, j in ga[i] += g[o] * xb[j] }
                }
            }
            if b.requiresGrad {
                let gb = b.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { gb[o] += g[o] * xa[o] }
                    }
                } else {
                    p.forEach { o, i, j in gb[j] += g[o] * xa[i] }
                }
            }
        }
    }

    /// Broadcasting elementwise `a / b`.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let p = BroadcastPlan(a.shape, b.shape, op: "div")
        let y = empty(p.shape)
        let ys = y.data
        let xa = a.data
        let xb = b.data
        if p.isSame {
            Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                for o in s..<e { ys[o] = xa[o] / xb[o] }
            }
        } else {
            p.forEach { o, i, j in ys[o] = xa[i] / xb[j] }
        }
        return record(y, "div", [a, b]) { _, g in
            if a.requiresGrad {
                let ga = a.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { ga[o] += g[o] / xb[o] }
                    }
                } else {
                    p.forEach { o, i, j in ga[i] += g[o] / xb[j] }
                }
            }
            if b.requiresGrad {
                let gb = b.gradData()
                if p.isSame {
                    Parallel.forEachBlock(p.count, block: Parallel.elementBlock) { s, e in
                        for o in s..<e { gb[o] -= g[o] * xa[o] / (xb[o] * xb[o]) }
                    }
                } else {
                    p.forEach { o, i, j in gb[j] -= g[o] * xa[i] / (xb[j] * xb[j]) }
                }
            }
        }
    }

    /// `x + s` for a scalar s.
    public static func + (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1, shift: s, op: "add_scalar") }
    /// `s + x` for a scalar s.
    public static func + (s: Float, x: Tensor) -> Tensor { x.affine(scale: 1, shift: s, op: "add_scalar") }
    /// `x - s` for a scalar s.
    public static func - (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1, shift: -s, op: "sub_scalar") }
    /// `s - x` for a scalar s.
    public static func - (s: Float, x: Tensor) -> Tensor { x.affine(scale: -1, shift: s, op: "rsub_scalar") }
    /// `x * s` for a scalar s.
    public static func * (x: Tensor, s: Float) -> Tensor { x.affine(scale: s, shift: 0, op: "mul_scalar") }
    /// `s * x` for a scalar s.
    public static func * (s: Float, x: Tensor) -> Tensor { x.affine(scale: s, shift: 0, op: "mul_scalar") }
    /// `x / s` for a scalar s.
    public static func / (x: Tensor, s: Float) -> Tensor { x.affine(scale: 1 / s, shift: 0, op: "div_scalar") }
    /// `-x`.
    public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1, shift: 0, op: "neg") }

    /// `scale * x + shift`, one fused pass.
    public func affine(scale: Float, shift: Float, op: String = "affine") -> Tensor {
        let y = Tensor.empty(shape)
        let ys = y.data
        let xs = data
        let n = count
        Parallel.forEachBlock(n, block: Parallel.elementBlock) { s, e in
            for i in s..<e { ys[i] = scale * xs[i] + shift }
        }
        return Tensor.record(y, op, [self]) { _, g in
            let gx = self.gradData()
            Parallel.forEachBlock(n, block: Parallel.elementBlock) { s, e in for i in s..<e { gx[i] += scale * g[i] } }
        }
    }
}
