/// A model's weights that do not fit: every missing, unexpected and mis-shaped name at once.
public struct WeightsMismatch: Error, CustomStringConvertible {
    /// The file the weights came from.
    public let source: String
    public let missing: [String], unexpected: [String], misshaped: [String]
    /// The message as one line.
    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing " + WeightsMismatch.list(missing)) }
        if !unexpected.isEmpty { parts.append("unexpected " + WeightsMismatch.list(unexpected)) }
        if !misshaped.isEmpty { parts.append("wrong shape " + WeightsMismatch.list(misshaped)) }
        return "\(source): weights do not fit the model: " + parts.joined(separator: "; ")
    }

    /// Up to 12 names (each cut to 80 characters), then how many more: a hostile file with
    /// 200,000 names still gets a one-line error of readable length.
    static func list(_ names: [String]) -> String {
        let shown = names.prefix(12).map { $0.count > 80 ? $0.prefix(80) + "..." : $0 }
        return shown.joined(separator: ", ") + (names.count > 12 ? " and \(names.count - 12) more" : "")
    }
}

extension Module {
    /// The parameters, then the buffers, as (PyTorch name, tensor), ready for `Safetensors.write`.
    public var stateDict: NamedTensors { namedParameters + namedBuffers }

    /// Copies `weights` into the parameters after checking every name and shape.
    public func load(_ weights: NamedTensors, source: String) throws {
        let byName = Dictionary(weights.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let own = stateDict
        let ownNames = Set(own.map(\.name))
        let missing = own.map(\.name).filter { byName[$0] == nil }
        let unexpected = weights.map(\.name).filter { !ownNames.contains($0) }
        let misshaped = own.compactMap { p -> String? in
            guard let w = byName[p.name], w.shape != p.tensor.shape else { return nil }
            return "\(p.name) (file \(w.shape), model \(p.tensor.shape))"
        }
        guard missing.isEmpty && unexpected.isEmpty && misshaped.isEmpty else {
            throw WeightsMismatch(source: source, missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
        for p in own { p.tensor.assign(byName[p.name]!) }
    }

    /// Writes the weights as a safetensors file with PyTorch's names.
    public func saveWeights(to path: String, metadata: [String: String] = [:]) throws {
        try Safetensors.write(stateDict, metadata: metadata, int64: counterNames, to: path)
    }

    /// Loads weights from a safetensors file (names and shapes must match exactly).
    public func loadWeights(from path: String) throws {
        try load(Safetensors.read(path).tensors, source: path)
    }
}
