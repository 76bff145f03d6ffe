import Foundation
import Yams

/// Reads a YAML config, applies `--set key.path=value` overrides, and validates it strictly.
public enum ConfigLoading {
    /// Reads `file`, applies the overrides and parses the result strictly.
    public static func load(_ file: String, overrides: [String]) throws -> TrainingConfig {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigError(file: file, path: "", message: "cannot read the config file")
        }
        return try parse(text, file: file, overrides: overrides)
    }

    /// A config's YAML text (named `file` in errors), with `--set` overrides applied.
    public static func parse(_ text: String, file: String, overrides: [String] = []) throws -> TrainingConfig {
        var root: Any
        do {
            guard let parsed = try boundedLoad(text, file: file, what: "the config") else {
                throw ConfigError(file: file, path: "", message: "the file is empty")
            }
            root = parsed
        } catch let e as ConfigError { throw e } catch let e as YamlError {
            throw ConfigError(file: file, path: "", message: "not valid YAML: \(oneLine("\(e)"))")
        }
        for o in overrides { root = try apply(o, to: root, file: file) }
        return try TrainingConfig.parse(root, file: file)
    }

    /// `a.b.c=value` with the value read as YAML (numbers, booleans, lists); list items by index.
    public static func apply(_ assignment: String, to root: Any, file: String) throws -> Any {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw ConfigError(
                file: file, path: "", message: "--set \(assignment): expected KEY=VALUE, e.g. --set optimizer.lr=0.01")
        }
        let keys = assignment[..<eq].split(separator: ".").map(String.init)
        let raw = String(assignment[assignment.index(after: eq)...])
        let parsed: Any? = try { () throws -> Any? in
            do { return try boundedLoad(raw, file: file, what: "--set \(keys.joined(separator: "."))") } catch let e
                as ConfigError
            { throw e } catch { return nil }
        }()
        let value: Any = parsed ?? (raw.isEmpty ? NSNull() : raw)
        func set(_ node: Any?, _ path: ArraySlice<String>) throws -> Any {
            guard let key = path.first else { return value }
            if var list = node as? [Any] {
                guard let i = Int(key), list.indices.contains(i) else {
                    throw ConfigError(
                        file: file, path: keys.joined(separator: "."),
                        message: "--set: '\(key)' is not an index of a list of \(list.count)")
                }
                list[i] = try set(list[i], path.dropFirst())
                return list
            }
            var map = node as? [String: Any] ?? [:]
            map[key] = try set(map[key], path.dropFirst())
            return map
        }
        return try set(root, keys[...])
    }

    /// Most values a config may expand to. YAML aliases share nodes, so a few hundred bytes can
    /// name billions of values ("billion laughs"); the count is taken on the shared node graph
    /// and stops at the limit, before anything is expanded.
    static let maxValues = 100_000

    /// YAML text to plain values, refusing documents that expand beyond `maxValues` and keys
    /// that are not scalars (found by fuzzing: Yams' constructor force-unwraps them as strings).
    static func boundedLoad(_ text: String, file: String, what: String) throws -> Any? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        var count = 0
        func walk(_ n: Node) throws {
            count += 1
            guard count <= maxValues else {
                throw ConfigError(
                    file: file, path: "",
                    message:
                        "\(what) expands to more than \(maxValues) values (YAML aliases repeated inside each other?)")
            }
            switch n {
            case .mapping(let m):
                for (k, v) in m {
                    // Keys are setting names; Yams would trap turning a list or mapping key into one.
                    guard case .scalar = k else {
                        let line = k.mark.map { " (line \($0.line))" } ?? ""
                        throw ConfigError(
                            file: file, path: "",
                            message: "\(what) uses a list or mapping as a key\(line); keys are setting names")
                    }
                    try walk(k)
                    try walk(v)
                }
            case .sequence(let s): for v in s { try walk(v) }
            default: break
            }
        }
        try walk(node)
        return node.any
    }

    /// One line of at most 300 characters (YAML errors quote the offending line, which may be huge).
    static func oneLine(_ s: String) -> String {
        let line = s.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 300 ? line.prefix(300) + "..." : line
    }
}
