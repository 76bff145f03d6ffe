/// body(x) + shortcut(x), the shortcut being the identity when there is none: a residual block.
/// Children are named "body" and "shortcut" (each an `nn.Sequential`), so parameters are
/// "K.body.J.weight" and "K.shortcut.J.weight" as in the PyTorch module of that shape.
public final class Residual: Module {
    /// The layers whose output is added to the shortcut's.
    public let body: Sequential
    /// The shortcut's layers; nil for the identity.
    public let shortcut: Sequential?
    /// Training mode (dropout active, batch statistics) or evaluation mode.
    public var isTraining = true

    /// A block computing body(x) + shortcut(x).
    public init(body: Sequential, shortcut: Sequential? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    /// Sub-layers with the names PyTorch gives them.
    public var children: [(name: String, module: Module)] {
        [(name: "body", module: body)] + (shortcut.map { [(name: "shortcut", module: $0)] } ?? [])
    }

    /// Applies the layer to `x` (a batch: the first extent counts samples).
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) + (shortcut?(x) ?? x) }

    /// The output shape for an input of shape `input`; a `ShapeError` when the input does not fit.
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
