/// NumPy's `.npy` format (versions 1.0, 2.0, 3.0): the magic `\x93NUMPY`, the version, a header
/// length (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict literal with `descr`, `fortran_order`
/// and `shape`, then the values in C order. Tandem reads numeric dtypes of either byte order.
public enum NPY {
    /// Element type of an array: the kind (`f`, `i`, `u`, `b`), its size, and whether it is stored
    /// big-endian.
    public struct DType: Equatable, Sendable, CustomStringConvertible {
        /// The dtype's kind letter.
        public enum Kind: Character, Sendable {
            case float = "f"
            case signed = "i"
            case unsigned = "u"
            case bool = "b"
        }
        /// Floating point, signed, unsigned or bool.
        public let kind: Kind
        /// Number of ranks.
        public let size: Int
        /// Whether the file stores the bytes most significant first.
        public let bigEndian: Bool

        /// A `descr` string such as `<f4`, `>i8`, `|u1`; nil for what Tandem does not read.
        public init?(descr: String) {
            let chars = Array(descr)
            guard chars.count >= 3, "<>|=".contains(chars[0]), let kind = Kind(rawValue: chars[1]),
                let size = Int(String(chars[2...]))
            else { return nil }
            let sizes: [Int] =
                switch kind {
                case .float: [4, 8]
                case .signed, .unsigned: [1, 2, 4, 8]
                case .bool: [1]
                }
            guard sizes.contains(size) else { return nil }
            self.kind = kind
            self.size = size
            bigEndian = chars[0] == ">"
        }

        /// Whether values are integers (labels) rather than floating point (targets).
        public var isInteger: Bool { kind != .float }
        /// The dtype as NumPy writes it (`<f4`).
        public var description: String { "\(bigEndian ? ">" : "<")\(kind.rawValue)\(size)" }
    }

    /// What a header says: element type, layout, shape, and where the values start.
    public struct Header: Equatable, Sendable {
        /// The element type.
        public var dtype: DType
        /// Whether the values are stored column-major.
        public var fortranOrder: Bool
        /// The array's extents.
        public var shape: [Int]
        /// Where the values start in the file.
        public var dataOffset: Int
        /// Number of elements (checked against overflow when read).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// Largest header accepted: the length comes from the file.
    static let maxHeaderLength = 1 << 20

    /// Reads the header of the array stored at `offset` in `file` (a `.npy` file, or a stored
    /// member of a `.npz`); `name` names it in messages. The shape is checked against overflow
    /// and against the bytes the file really has.
    public static func header(in file: FileBytes, at offset: Int = 0, name: String) throws -> Header {
        let lead = try file.bytes(at: offset, length: 10, "the .npy magic and version")
        guard lead[0] == 0x93, Array(lead[1..<6]) == Array("NUMPY".utf8) else {
            throw DataError("\(name): not a .npy file (no \\x93NUMPY magic)")
        }
        let major = Int(lead[6])
        guard (1...3).contains(major), lead[7] == 0 else {
            throw DataError("\(name): .npy format version \(major).\(lead[7]) is not 1.0, 2.0 or 3.0")
        }
        var length = Int(lead[8]) | Int(lead[9]) << 8
        var start = offset + 10
        if major >= 2 {
            let more = try file.bytes(at: offset + 10, length: 2, "the header length")
            length |= Int(more[0]) << 16 | Int(more[1]) << 24
            start += 2
        }
        guard length <= maxHeaderLength else {
            throw DataError("\(name): .npy header of \(length) bytes is longer than \(maxHeaderLength)")
        }
        let text = try file.bytes(at: start, length: length, "the header")
        // 1.0 and 2.0 headers are latin-1, 3.0 UTF-8; the keys Tandem reads are ASCII either way.
        var parser = HeaderParser(text: String(decoding: text, as: UTF8.self), name: name)
        let dict = try parser.dictionary()
        if case .other? = dict["descr"] {
            throw DataError(
                "\(name): structured dtypes (records of named fields) are not supported; save one array each")
        }
        guard case .string(let descr)? = dict["descr"] else { throw DataError("\(name): the header has no 'descr'") }
        guard let dtype = DType(descr: descr) else {
            throw DataError(
                "\(name): dtype '\(descr.prefix(40))' is not supported (Tandem reads float32/64, int8-64, uint8-64 "
                    + "and bool)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw DataError("\(name): the header has no fortran_order True/False")
        }
        guard case .tuple(let shape)? = dict["shape"] else { throw DataError("\(name): the header has no shape tuple") }
        let header = Header(dtype: dtype, fortranOrder: fortran, shape: shape, dataOffset: start + length)
        try check(header, in: file, name: name)
        return header
    }

    /// The shape's byte count must not overflow and must fit in what follows the header.
    static func check(_ h: Header, in file: FileBytes, name: String) throws {
        var bytes = h.dtype.size
        for d in h.shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw DataError("\(name): shape \(h.shape) overflows") }
            bytes = product
        }
        guard h.dataOffset <= file.count, bytes <= file.count - h.dataOffset else {
            throw DataError(
                "\(name): truncated: shape \(h.shape) of \(h.dtype) needs \(bytes) bytes after the header, the file "
                    + "has \(max(file.count - h.dataOffset, 0))")
        }
    }

    /// A float32 array as a version 1.0 `.npy` file's bytes.
    public static func encode(shape: [Int], float32 values: [Float]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "NPY.encode: \(values.count) values for \(shape)")
        var out = headerBytes(descr: "<f4", shape: shape)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// The magic, version 1.0 and a header padded with spaces so the values start 64-byte aligned.
    static func headerBytes(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        let n = dict.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(dict.utf8)
    }
}

/// The Python literal subset .npy headers use: a dict of string keys to strings, True/False and
/// tuples of integers.
struct HeaderParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
        /// A list or anything else Tandem does not read (a structured dtype's fields).
        case other
    }
    let chars: [Character]
    let name: String
    var i = 0

    init(text: String, name: String) {
        chars = Array(text)
        self.name = name
    }

    mutating func dictionary() throws -> [String: Value] {
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            skipSpace()
            if peek == "}" { break }
            let key = try string()
            try expect(":")
            out[key] = try value()
            skipSpace()
            if peek == "," { i += 1 } else { break }
        }
        try expect("}")
        return out
    }

    var peek: Character? { i < chars.count ? chars[i] : nil }

    mutating func skipSpace() { while let c = peek, c.isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard peek == c else { throw problem("expected '\(c)'") }
        i += 1
    }

    func problem(_ what: String) -> DataError {
        DataError("\(name): malformed .npy header: \(what) at character \(i)")
    }

    mutating func string() throws -> String {
        skipSpace()
        guard let q = peek, q == "'" || q == "\"" else { throw problem("expected a quoted string") }
        i += 1
        var s = ""
        while let c = peek, c != q {
            s.append(c)
            i += 1
            guard s.count <= 256 else { throw problem("string too long") }
        }
        try expect(q)
        return s
    }

    mutating func value() throws -> Value {
        skipSpace()
        if peek == "'" || peek == "\"" { return .string(try string()) }
        if peek == "(" { return .tuple(try tuple()) }
        for (word, b) in [("True", true), ("False", false)] where chars[i...].starts(with: word) {
            i += word.count
            return .bool(b)
        }
        // A list (structured dtype) or anything else: skip to the next key at this level.
        var depth = 0
        while let c = peek, !(depth == 0 && (c == "," || c == "}")) {
            if "([{".contains(c) { depth += 1 }
            if ")]}".contains(c) { depth -= 1 }
            i += 1
        }
        return .other
    }

    mutating func tuple() throws -> [Int] {
        try expect("(")
        var out: [Int] = []
        while true {
            skipSpace()
            if peek == ")" { break }
            var digits = ""
            while let c = peek, c.isASCII && c.isNumber {
                digits.append(c)
                i += 1
            }
            guard digits.count <= 18, let d = Int(digits) else { throw problem("expected an extent") }
            out.append(d)
            guard out.count <= 32 else { throw problem("more than 32 extents") }
            skipSpace()
            if peek == "L" { i += 1 }  // Python 2's long suffix
            skipSpace()
            if peek == "," { i += 1 } else { break }
        }
        try expect(")")
        return out
    }
}
