import Tensor
import Testing

/// A Float32 tolerance: |actual - expected| <= abs + rel * |expected|.
public struct Tolerance: Sendable {
    public init(abs: Double, rel: Double) {
        self.abs = abs
        self.rel = rel
    }
    public let abs: Double, rel: Double
    /// Single ops against PyTorch's float64 values.
    public static let float32 = Tolerance(abs: 1e-4, rel: 1e-4)
    /// Long reductions (convolutions, sequences).
    public static let loose = Tolerance(abs: 5e-4, rel: 5e-4)
    /// Central finite differences of a Float32 forward with step 5e-3, accumulated in Float64.
    public static let finiteDifference = Tolerance(abs: 1e-2, rel: 1e-2)
}

/// Where random test inputs live.
public enum Domain: Sendable {
    case any  // uniform in [-2, 2] but at least 0.2 from 0 (away from kinks)
    case positive  // uniform in [0.5, 2]
    case distinct  // a shuffled grid with spacing 0.1: no ties for max/pool
}

public func expectClose(
    _ actual: [Float], _ expected: [Double], _ tol: Tolerance, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)",
        sourceLocation: sourceLocation)
    var worst = 0.0
    var at = -1
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let excess = Swift.abs(Double(a) - e) - (tol.abs + tol.rel * Swift.abs(e))
        if excess > worst || (excess.isNaN && at < 0) {
            worst = excess
            at = i
        }
    }
    #expect(
        at < 0, "\(what): element \(at) is \(at >= 0 ? actual[at] : 0), expected \(at >= 0 ? expected[at] : 0)",
        sourceLocation: sourceLocation)
}

public func randomInputs(_ shapes: [[Int]], _ domain: Domain, seed: UInt64) -> [Tensor] {
    shapes.enumerated().map { k, shape in
        let u = Tensor.randomUniform(shape, seed: seed, purpose: .test, stream: UInt32(k)).scalars
        let values: [Float]
        switch domain {
        case .any:
            values = u.map { v in
                let s: Float = v < 0.5 ? -1 : 1
                return s * (0.2 + Swift.abs(v - 0.5) * 3.6)
            }
        case .positive: values = u.map { 0.5 + 1.5 * $0 }
        case .distinct:
            let order = u.indices.sorted { u[$0] < u[$1] }
            var v = [Float](repeating: 0, count: u.count)
            for (rank, i) in order.enumerated() { v[i] = Float(rank) * 0.1 - Float(u.count) * 0.05 }
            values = v
        }
        return Tensor(values, shape: shape, requiresGrad: true)
    }
}

/// Checks an op's vector-Jacobian product against central finite differences in Float64.
public func checkFiniteDifferences(
    _ shapes: [[Int]], _ domain: Domain = .any, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) -> Tensor
) {
    let xs = randomInputs(shapes, domain, seed: seed)
    let y = f(xs)
    let cot = Tensor.randomUniform(y.shape, low: -1, high: 1, seed: seed &+ 1, purpose: .test)
    y.backward(seed: cot)
    let h: Float = 5e-3
    func objective() -> Double {
        withoutGrad { zip(f(xs).scalars, cot.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
    }
    for (k, x) in xs.enumerated() {
        var numeric = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let keep = x.data[i]
            x.data[i] = keep + h
            let up = objective()
            x.data[i] = keep - h
            let down = objective()
            x.data[i] = keep
            numeric[i] = (up - down) / (2 * Double(h))
        }
        let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
        expectClose(
            analytic, numeric, .finiteDifference, "input \(k) gradient vs finite differences",
            sourceLocation: sourceLocation)
    }
}

/// Checks an op's output and input gradients against a PyTorch fixture case.
public func checkAgainstTorch(
    _ name: String, _ tol: Tolerance = .float32,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor], [Int]) -> Tensor
) {
    let c = Fixtures.named(name)
    let xs = c.inputs!.map { t -> Tensor in
        let x = t.tensor
        x.requiresGrad = true
        return x
    }
    let y = f(xs, c.integerInputs?.first?.data.map { Int($0) } ?? [])
    #expect(
        y.shape == c.output!.shape, "\(name): output shape \(y.shape), torch \(c.output!.shape)",
        sourceLocation: sourceLocation)
    expectClose(y.scalars, c.output!.data, tol, "\(name) output", sourceLocation: sourceLocation)
    y.backward(seed: c.cotangent!.tensor)
    for (k, (x, g)) in zip(xs, c.inputGrads!).enumerated() {
        expectClose(
            x.grad?.scalars ?? [Float](repeating: 0, count: x.count), g.data, tol,
            "\(name) input \(k) gradient", sourceLocation: sourceLocation)
    }
}

/// Both checks in one line: the PyTorch case (when there is one) and finite differences.
public func checkOp(
    _ torchCase: String?, _ shapes: [[Int]], _ domain: Domain = .any, _ tol: Tolerance = .float32,
    sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping ([Tensor]) -> Tensor
) {
    if let torchCase { checkAgainstTorch(torchCase, tol, sourceLocation: sourceLocation) { xs, _ in f(xs) } }
    checkFiniteDifferences(shapes, domain, sourceLocation: sourceLocation, f)
}

/// Checks a module against a PyTorch case whose inputs are the input followed by the module's
/// parameters: `f` gets the case's tensors (the first requires grad) and its integer inputs, copies
/// the rest into the module it builds, and returns the output and the tensors whose gradients
/// correspond to the case's inputs, in order.
public func checkModuleAgainstTorch(
    _ name: String, _ tol: Tolerance = .float32,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor], [Int]) -> (out: Tensor, gradSources: [Tensor])
) {
    let c = Fixtures.named(name)
    let xs = c.inputs!.map(\.tensor)
    xs[0].requiresGrad = true
    let (y, sources) = f(xs, c.integerInputs?.first?.data.map { Int($0) } ?? [])
    #expect(
        y.shape == c.output!.shape, "\(name): output shape \(y.shape), torch \(c.output!.shape)",
        sourceLocation: sourceLocation)
    expectClose(y.scalars, c.output!.data, tol, "\(name) output", sourceLocation: sourceLocation)
    y.backward(seed: c.cotangent!.tensor)
    #expect(sources.count == c.inputGrads!.count, "\(name): gradient sources", sourceLocation: sourceLocation)
    for (k, (x, g)) in zip(sources, c.inputGrads!).enumerated() {
        expectClose(
            x.grad?.scalars ?? [Float](repeating: 0, count: x.count), g.data, tol,
            "\(name) input \(k) gradient", sourceLocation: sourceLocation)
    }
}
