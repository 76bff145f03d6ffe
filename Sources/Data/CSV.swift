import Foundation

/// A CSV file with a header row: numeric feature columns and one target column chosen by name.
public enum CSVTable {
    /// What to do with an empty, "NA", "NaN" or "?" feature value.
    public enum MissingPolicy: String, CaseIterable, Sendable {
        case error, drop, mean, median
    }
    /// Whether the target is a class or a number.
    public enum Task: String, CaseIterable, Sendable { case classification, regression }

    /// What a model trained on a CSV expects of new rows: its feature columns by name, how
    /// missing values were handled and the training split's fill value for each column.
    public struct Schema: Sendable, Equatable {
        /// The feature columns, in the model's input order.
        public let featureNames: [String]
        /// The target column's name.
        public let target: String
        /// How missing values were handled in training.
        public let missing: MissingPolicy
        /// Per feature column, the value missing entries are filled with (from the training split).
        public let fills: [Float]

        /// A schema from its parts.
        public init(featureNames: [String], target: String, missing: MissingPolicy, fills: [Float]) {
            self.featureNames = featureNames
            self.target = target
            self.missing = missing
            self.fills = fills
        }
    }

    /// Parsed rows before any split: features with NaN where missing.
    struct Table {
        var features: [[Float]]
        var targets: [String]
        var lines: [Int]
        let featureNames: [String]
    }

    /// Loads `path` and returns (train, test, validation): the test rows are `testPath`'s, or a
    /// seeded `testFraction` of `path`'s rows; validation rows only from `validationPath`. Missing
    /// values are filled from training rows only.
    public static func load(
        path: String, target: String, task: Task, missing: MissingPolicy,
        testPath: String? = nil, testFraction: Double = 0.2, validationPath: String? = nil, seed: UInt64
    )
        throws -> (train: Dataset, test: Dataset, validation: Dataset?, schema: Schema)
    {
        var train = try parse(path, target: target)
        func sameColumns(_ other: String) throws -> Table {
            let t = try parse(other, target: target)
            guard t.featureNames == train.featureNames else {
                throw DataError("\(other): columns \(t.featureNames) differ from \(path)'s \(train.featureNames)")
            }
            return t
        }
        var validation = try validationPath.map(sameColumns)
        var test: Table
        if let testPath {
            test = try sameColumns(testPath)
        } else {
            guard testFraction > 0 && testFraction < 1 else {
                throw DataError("\(path): test_fraction must be in (0, 1)")
            }
            let n = train.features.count
            let order = Permutation.shuffled(count: n, seed: seed, epoch: 0x7E57)
            let nTest = max(1, Int((Double(n) * testFraction).rounded()))
            guard nTest < n else { throw DataError("\(path): \(n) rows are too few to split off a test set") }
            let testRows = Set(order.prefix(nTest))
            func pick(_ keep: Bool) -> Table {
                let idx = (0..<n).filter { testRows.contains($0) != keep }
                return Table(
                    features: idx.map { train.features[$0] }, targets: idx.map { train.targets[$0] },
                    lines: idx.map { train.lines[$0] }, featureNames: train.featureNames)
            }
            (train, test) = (pick(true), pick(false))
        }
        // Fill values come from the training rows only.
        let fills = try fillValues(train, policy: missing, file: path)
        try applyMissing(&train, fills, missing, file: path)
        try applyMissing(&test, fills, missing, file: testPath ?? path)
        if let v = validationPath { try applyMissing(&validation!, fills, missing, file: v) }
        let allTargets = train.targets + test.targets + (validation?.targets ?? [])
        let classes = task == .classification ? try classIndex(allTargets, file: path) : nil
        let schema = Schema(featureNames: train.featureNames, target: target, missing: missing, fills: fills)
        return (
            try dataset(train, task, classes, file: path), try dataset(test, task, classes, file: testPath ?? path),
            try validation.map { try dataset($0, task, classes, file: validationPath!) }, schema
        )
    }

    static func isMissing(_ s: String) -> Bool { ["", "NA", "NaN", "nan", "?", "null"].contains(s) }

    /// Rows to predict on, read directly: columns are matched to the training features by name
    /// (any order; the target column, if present, is ignored whatever it holds), and missing
    /// values are filled as training filled them (with `missing: mean|median`; otherwise an error,
    /// since dropping a row would shift every later prediction's index).
    public static func predictionRows(path: String, schema: Schema) throws -> Dataset {
        let (header, rows) = try records(path)
        let wanted = Set(schema.featureNames)
        if let extra = header.first(where: { !wanted.contains($0) && $0 != schema.target }) {
            throw DataError(
                "\(path): column '\(extra)' is not one of the model's features "
                    + "(\(schema.featureNames.joined(separator: ", ")))"
            )
        }
        var columns: [Int] = []
        for name in schema.featureNames {
            guard let k = header.firstIndex(of: name) else {
                throw DataError(
                    "\(path): no column named '\(name)'; the model was trained on "
                        + "\(schema.featureNames.joined(separator: ", "))"
                )
            }
            columns.append(k)
        }
        var features: [Float] = []
        features.reserveCapacity(rows.count * columns.count)
        for (line, fields) in rows {
            for (j, k) in columns.enumerated() {
                let f = fields[k]
                if isMissing(f) {
                    guard schema.missing == .mean || schema.missing == .median else {
                        throw DataError(
                            "\(path):\(line): missing value in column '\(header[k])' (the model was trained with "
                                + "data.missing: \(schema.missing.rawValue); fill it)"
                        )
                    }
                    features.append(schema.fills[j])
                    continue
                }
                guard let v = Float(f), v.isFinite else {
                    throw DataError("\(path):\(line): column '\(header[k])' holds '\(f.prefix(40))', not a number")
                }
                features.append(v)
            }
        }
        return try Dataset(
            features: .floats(features), targets: .values([Float](repeating: 0, count: rows.count), width: 1),
            sampleShape: [columns.count], source: path)
    }

    /// A CSV's header and its data rows (with line numbers), each row as wide as the header.
    static func records(_ path: String) throws -> (header: [String], rows: [(line: Int, fields: [String])]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError("\(path): cannot read (missing file?)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DataError("\(path): not UTF-8 text") }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else { throw DataError("\(path): empty file (a header row is required)") }
        let header = splitRow(String(headerLine)).map { $0.trimmingCharacters(in: .whitespaces) }
        if let dup = header.enumerated().first(where: { header[..<$0.offset].contains($0.element) }) {
            throw DataError("\(path): column '\(dup.element.prefix(40))' appears twice in the header")
        }
        var rows: [(line: Int, fields: [String])] = []
        for (i, raw) in lines.enumerated().dropFirst() {
            let fields = splitRow(String(raw)).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == header.count else {
                throw DataError("\(path):\(i + 1): \(fields.count) fields, the header has \(header.count)")
            }
            rows.append((i + 1, fields))
        }
        guard !rows.isEmpty else { throw DataError("\(path): no data rows after the header") }
        return (header, rows)
    }

    static func parse(_ path: String, target: String) throws -> Table {
        let (header, rows) = try records(path)
        guard let targetIndex = header.firstIndex(of: target) else {
            throw DataError("\(path): no column named '\(target)' (columns: \(header.joined(separator: ", ")))")
        }
        var table = Table(
            features: [], targets: [], lines: [],
            featureNames: header.enumerated().filter { $0.offset != targetIndex }.map(\.element))
        for (lineNo, fields) in rows {
            var row: [Float] = []
            for (k, f) in fields.enumerated() where k != targetIndex {
                if isMissing(f) {
                    row.append(.nan)
                    continue
                }
                guard let v = Float(f), v.isFinite else {
                    throw DataError("\(path):\(lineNo): column '\(header[k])' holds '\(f)', not a number")
                }
                row.append(v)
            }
            table.features.append(row)
            table.targets.append(fields[targetIndex])
            table.lines.append(lineNo)
        }
        return table
    }

    /// Splits one CSV row; double quotes group fields and "" escapes a quote.
    static func splitRow(_ line: String) -> [String] {
        var fields: [String] = []
        var cur = ""
        var quoted = false
        var it = line.makeIterator()
        while let ch = it.next() {
            if quoted {
                if ch == "\"" {
                    if let nxt = it.next() {
                        if nxt == "\"" {
                            cur.append("\"")
                        } else {
                            quoted = false
                            if nxt == "," {
                                fields.append(cur)
                                cur = ""
                            } else {
                                cur.append(nxt)
                            }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    cur.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(cur)
                cur = ""
            } else {
                cur.append(ch)
            }
        }
        fields.append(cur)
        return fields
    }

    static func fillValues(_ t: Table, policy: MissingPolicy, file: String) throws -> [Float] {
        let cols = t.featureNames.count
        return (0..<cols).map { k in
            let present = t.features.map { $0[k] }.filter { !$0.isNaN }
            guard !present.isEmpty else { return 0 }
            switch policy {
            case .median:
                let s = present.sorted()
                return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            default:
                return Float(present.reduce(0.0) { $0 + Double($1) } / Double(present.count))
            }
        }
    }

    static func applyMissing(_ t: inout Table, _ fills: [Float], _ policy: MissingPolicy, file: String) throws {
        var keep: [Int] = []
        for (r, row) in t.features.enumerated() {
            let labelMissing = isMissing(t.targets[r])
            let gap = row.firstIndex { $0.isNaN }
            if gap == nil && !labelMissing {
                keep.append(r)
                continue
            }
            switch policy {
            case .error:
                let what = labelMissing ? "the target" : "column '\(t.featureNames[gap!])'"
                throw DataError(
                    "\(file):\(t.lines[r]): missing value in \(what) (set data.missing to drop, mean or median to "
                        + "handle it)"
                )
            case .drop:
                continue
            case .mean, .median:
                if labelMissing { continue }  // a target cannot be imputed: the row is dropped
                t.features[r] = row.enumerated().map { $0.element.isNaN ? fills[$0.offset] : $0.element }
                keep.append(r)
            }
        }
        t.features = keep.map { t.features[$0] }
        t.targets = keep.map { t.targets[$0] }
        t.lines = keep.map { t.lines[$0] }
        guard !t.features.isEmpty else { throw DataError("\(file): no rows left after handling missing values") }
    }

    /// Class ids: the integers themselves when all labels are small non-negative integers,
    /// otherwise the labels' sorted order.
    static func classIndex(_ labels: [String], file: String) throws -> [String: Int32] {
        let unique = Set(labels)
        if unique.allSatisfy({ Int($0).map { $0 >= 0 && $0 < 10_000 } ?? false }) {
            return Dictionary(uniqueKeysWithValues: unique.map { ($0, Int32($0)!) })
        }
        return Dictionary(uniqueKeysWithValues: unique.sorted().enumerated().map { ($0.element, Int32($0.offset)) })
    }

    static func dataset(_ t: Table, _ task: Task, _ classes: [String: Int32]?, file: String) throws -> Dataset {
        let features = t.features.flatMap { $0 }
        let shape = [t.featureNames.count]
        if let classes {
            let count = Int(classes.values.max()! + 1)
            return try Dataset(
                features: .floats(features), targets: .classes(t.targets.map { classes[$0]! }, classes: count),
                sampleShape: shape, source: file)
        }
        var values: [Float] = []
        for (r, s) in t.targets.enumerated() {
            guard let v = Float(s), v.isFinite else {
                throw DataError("\(file):\(t.lines[r]): target '\(s)' is not a number")
            }
            values.append(v)
        }
        return try Dataset(
            features: .floats(features), targets: .values(values, width: 1), sampleShape: shape, source: file)
    }
}
