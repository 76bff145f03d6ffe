import Foundation

/// A config mistake: one line naming the file, the key path and the problem.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The config file.
    public let file: String
    /// The key path (`optimizer.lr`, `model[3].dropout.p`).
    public let path: String
    /// What is wrong with the value.
    public let message: String
    /// An error at `path` of `file`.
    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }
    /// The message as one line.
    public var description: String { "\(file): \(path.isEmpty ? "" : path + ": ")\(message)" }
}

/// Reads one mapping of a parsed config (YAML or JSON, as plain Swift values) strictly: every
/// read names its key path in errors, and `finish()` rejects keys nobody read, suggesting the
/// nearest known key.
public final class ConfigReader {
    let file: String
    let path: String
    let values: [String: Any]
    private var known: [String] = []
    /// Reading a config saved in a checkpoint: the parts of a run built in Swift code (a model,
    /// data or loss with no config form) are recorded as `swift` there and accepted.
    let fromCheckpoint: Bool

    /// A reader over one mapping at key path `path` of `file`.
    public init(_ values: [String: Any], file: String, path: String = "", fromCheckpoint: Bool = false) {
        self.values = values
        self.file = file
        self.path = path
        self.fromCheckpoint = fromCheckpoint
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    /// A `ConfigError` for `key` of this section.
    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, path: keyPath(key), message: message)
    }

    private func raw(_ key: String) -> Any? {
        known.append(key)
        guard let v = values[key], !(v is NSNull) else { return nil }
        return v
    }

    /// A required key is absent: if a present key looks like a misspelling of it, that key is the
    /// mistake to report ("modle: unknown key (did you mean 'model'?)"), not the absence.
    func missing(_ key: String) -> ConfigError {
        for other in values.keys.sorted() where values[other] != nil && !known.contains(other) {
            if !suggestion(other, [key]).isEmpty { return error(other, "unknown key" + suggestion(other, [key])) }
        }
        return error(key, "is required")
    }

    /// Whether `key` is present and not null.
    public func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// A string, or `default`; when `choices` is given the value must be one of them.
    public func string(_ key: String, default d: String? = nil, choices: [String]? = nil) throws -> String {
        guard let v = raw(key) else {
            if let d { return d }
            throw missing(key)
        }
        guard let s = v as? String else { throw error(key, "must be a string, got \(describe(v))") }
        if let choices, !choices.contains(s) {
            throw error(key, "must be one of \(choices.joined(separator: ", ")), got '\(s)'" + suggestion(s, choices))
        }
        return s
    }

    /// A string, or nil when absent.
    public func optionalString(_ key: String) throws -> String? {
        has(key)
            ? try string(key)
            : {
                known.append(key)
                return nil
            }()
    }

    /// An integer within `range`.
    public func int(_ key: String, default d: Int? = nil, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let v = raw(key) else {
            if let d { return d }
            throw missing(key)
        }
        guard let n = Self.integer(v) else { throw error(key, "must be an integer, got \(describe(v))") }
        guard range.contains(n) else { throw error(key, "must be \(describeRange(range)), got \(n)") }
        return n
    }

    /// An integer in `range`, or nil when absent.
    public func optionalInt(_ key: String, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        has(key)
            ? try int(key, range: range)
            : {
                known.append(key)
                return nil
            }()
    }

    /// A number satisfying `valid` (described by `requirement`).
    public func double(
        _ key: String, default d: Double? = nil, _ requirement: String = "", _ valid: (Double) -> Bool = { _ in true }
    ) throws -> Double {
        guard let v = raw(key) else {
            if let d { return d }
            throw missing(key)
        }
        guard let x = Self.number(v) else { throw error(key, "must be a number, got \(describe(v))") }
        guard x.isFinite, valid(x) else { throw error(key, "must be \(requirement), got \(x)") }
        return x
    }

    /// A number that must also fit Float32 (settings the math uses as Float): 1e300 is refused
    /// here rather than becoming infinity later.
    public func float(
        _ key: String, default d: Double? = nil, _ requirement: String = "", _ valid: (Double) -> Bool = { _ in true }
    ) throws -> Float {
        let x = try double(key, default: d, requirement, valid)
        guard abs(x) <= Double(Float.greatestFiniteMagnitude) else {
            throw error(
                key,
                "must be \(requirement.isEmpty ? "" : requirement + " and ")at most \(Float.greatestFiniteMagnitude) "
                    + "(Float32), got \(x)"
            )
        }
        return Float(x)
    }

    /// A boolean, or `d` when absent.
    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = raw(key) else { return d }
        if let n = v as? NSNumber, String(cString: n.objCType) == "c" { return n.boolValue }
        if !(v is NSNumber), let b = v as? Bool { return b }
        throw error(key, "must be true or false, got \(describe(v))")
    }

    /// A nested mapping (an empty one when absent and `optional`).
    public func section(_ key: String, optional: Bool = true) throws -> ConfigReader {
        guard let v = raw(key) else {
            if optional { return ConfigReader([:], file: file, path: keyPath(key), fromCheckpoint: fromCheckpoint) }
            throw missing(key)
        }
        guard let m = v as? [String: Any] else { throw error(key, "must be a mapping, got \(describe(v))") }
        return ConfigReader(m, file: file, path: keyPath(key), fromCheckpoint: fromCheckpoint)
    }

    /// A list.
    public func list(_ key: String) throws -> [Any] {
        guard let v = raw(key) else { throw missing(key) }
        guard let l = v as? [Any] else { throw error(key, "must be a list, got \(describe(v))") }
        return l
    }

    /// Marks a key as understood without reading it (read elsewhere).
    public func accept(_ key: String) { known.append(key) }

    /// Rejects keys that were never read.
    public func finish() throws {
        for key in values.keys.sorted() where !known.contains(key) {
            throw error(key, "unknown key" + suggestion(key, known))
        }
    }

    // MARK: value helpers

    static func integer(_ v: Any) -> Int? {
        if let n = v as? NSNumber, String(cString: n.objCType) == "c" { return nil }  // a bool
        if let i = v as? Int { return i }
        if let d = v as? Double, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    static func number(_ v: Any) -> Double? {
        if let n = v as? NSNumber, String(cString: n.objCType) == "c" { return nil }
        if let i = v as? Int { return Double(i) }
        return v as? Double
    }

    func describe(_ v: Any) -> String {
        switch v {
        case let s as String: return "'\(s)'"
        case is [Any]: return "a list"
        case is [String: Any]: return "a mapping"
        default: return "\(v)"
        }
    }

    func describeRange(_ r: ClosedRange<Int>) -> String {
        if r.upperBound == Int.max { return "at least \(r.lowerBound)" }
        return "between \(r.lowerBound) and \(r.upperBound)"
    }
}

/// " (did you mean 'x'?)" for the nearest candidate within a small edit distance.
func suggestion(_ word: String, _ candidates: [String]) -> String {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored, d <= max(2, best.count / 3) else { return "" }
    return " (did you mean '\(best)'?)"
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var prev = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var cur = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return a.isEmpty ? b.count : prev[b.count]
}

/// A Float setting as the Double JSON writes: its shortest decimal form (0.286, not
/// 0.28600001335144043), which reads back as the same Float.
func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
