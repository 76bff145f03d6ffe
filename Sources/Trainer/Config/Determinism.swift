/// `determinism:` in a config. Fast mode reduces gradients as they are ready (results differ
/// in the last bits between rank counts); exact mode cuts each global batch into virtual shards
/// and adds them in one fixed tree, bit-identical for every rank count that divides the shards.
public enum Determinism: Equatable, Sendable {
    case fast
    case exact(virtualShards: Int = 4)

    /// Whether results are bit-identical across rank counts.
    public var isExact: Bool {
        if case .exact = self { return true }
        return false
    }

    /// Virtual shards per global batch (1 in fast mode, where shards do not exist).
    public var virtualShards: Int {
        if case .exact(let v) = self { return v }
        return 1
    }

    /// `fast`, `exact`, or `{mode: exact, virtual_shards: V}`.
    static func parse(_ r: ConfigReader, top: [String: Any]) throws -> Determinism {
        if let s = top["determinism"] as? String {
            r.accept("determinism")
            switch s {
            case "fast": return .fast
            case "exact": return .exact()
            default: throw r.error("determinism", "must be fast, exact or {mode: exact, virtual_shards: 4}, got '\(s)'")
            }
        }
        let d = try r.section("determinism")
        let mode = try d.string("mode", default: "fast", choices: ["fast", "exact"])
        let shards = try d.int("virtual_shards", default: 4, range: 1...1024)
        try d.finish()
        guard mode == "exact" else { return .fast }
        guard shards & (shards - 1) == 0 else {
            throw r.error("determinism.virtual_shards", "must be a power of two, got \(shards)")
        }
        return .exact(virtualShards: shards)
    }

    /// Why this mode cannot run on `ranks` ranks, or nil (exact mode: a power of two dividing V).
    func problem(ranks: Int) -> String? {
        guard case .exact(let v) = self else { return nil }
        return DataParallel.problem(virtualShards: v, ranks: ranks)
    }

    var configValue: [String: Any] {
        switch self {
        case .fast: return ["mode": "fast", "virtual_shards": 4]
        case .exact(let v): return ["mode": "exact", "virtual_shards": v]
        }
    }
}

/// `train.on_nonfinite`: what every rank does with a step whose loss or gradient is not finite.
public enum NonFinitePolicy: String, CaseIterable, Equatable, Sendable {
    /// End the run, naming the step and the ranks.
    case abort
    /// Skip the update on every rank and go on.
    case skip
}
