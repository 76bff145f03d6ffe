/// body(x) + shortcut(x), the shortcut being the identity when there is none: a residual block.
/// Children are named "body" and "shortcut" (each an `nn.Sequential`), so parameters are
/// "K.body.J.weight" and "K.shortcut.J.weight" as in the PyTorch module of that shape.
public final class Residual: Module {
    public let body: Sequential
    public let shortcut: Sequential?
    public var isTraining = true

    public init(body: Sequential, shortcut: Sequential? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    public var children: [(name: String, module: Module)] {
        [(name: "body", module: body)] + (shortcut.map { [(name: "shortcut", module: $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) + (shortcut?(x) ?? x) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let b = try body.outputShape(for: input)
        let s = try shortcut?.outputShape(for: input) ?? input
        guard b == s else {
            throw ShapeError(
                "residual", "the body gives \(Array(b.dropFirst())) per sample, the shortcut \(Array(s.dropFirst()))")
        }
        return b
    }
}
