/// The safetensors header, parsed straight from the file's bytes into one small record per
/// tensor: no JSON object tree (200,000 entries cost a few MB, not hundreds), strict UTF-8 (the
/// format's rule; Foundation's parser would also accept UTF-16), integers that are integers (`2.0`
/// is not a shape), and every number range-checked before anything is sized from it.
struct SafetensorsHeader {
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    var entries: [Entry] = []
    var metadata: [String: String] = [:]

    /// Largest value accepted for an extent or offset: far beyond any real file, far below overflow.
    static let maxNumber = 1 << 53
    /// Deepest nesting skipped in unknown values.
    static let maxDepth = 64

    /// Parses `bytes`; errors are one line without the file name (the caller adds it).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(HeaderError) -> SafetensorsHeader {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.contains(0) {
            throw HeaderError("the header is not UTF-8 JSON (a byte-order mark or NUL bytes: UTF-16?)")
        }
        var p = Parser(bytes: bytes)
        var header = SafetensorsHeader()
        var seen = Set<String>()
        try p.expect(UInt8(ascii: "{"), "the header is not a JSON object")
        if try !p.consumeIf(UInt8(ascii: "}")) {
            repeat {
                let key = try p.string()
                guard seen.insert(key).inserted else { throw HeaderError("key '\(key.prefix(80))' appears twice") }
                try p.expect(UInt8(ascii: ":"), "expected ':' after '\(key.prefix(80))'")
                if key == "__metadata__" {
                    header.metadata = try p.stringMap()
                } else {
                    header.entries.append(try p.entry(name: key))
                }
            } while try p.consumeIf(UInt8(ascii: ","))
            try p.expect(UInt8(ascii: "}"), "expected ',' or '}' in the header object")
        }
        p.skipSpace()
        guard p.at == bytes.count else {
            throw HeaderError("unexpected bytes after the header object at offset \(p.at)")
        }
        return header
    }

    struct HeaderError: Error {
        let message: String
        /// The tensor whose entry is wrong, if it is one.
        var tensor: String?
        init(_ message: String, tensor: String? = nil) {
            self.message = message
            self.tensor = tensor
        }
    }

    /// A cursor over the header bytes.
    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
        }

        mutating func peek() throws(HeaderError) -> UInt8 {
            skipSpace()
            guard at < bytes.count else { throw HeaderError("the header ends in the middle of its JSON") }
            return bytes[at]
        }

        mutating func expect(_ c: UInt8, _ message: String) throws(HeaderError) {
            guard try peek() == c else { throw HeaderError(message + " (offset \(at))") }
            at += 1
        }

        mutating func consumeIf(_ c: UInt8) throws(HeaderError) -> Bool {
            guard try peek() == c else { return false }
            at += 1
            return true
        }

        /// A JSON string; its bytes must be valid UTF-8 with no raw control characters.
        mutating func string() throws(HeaderError) -> String {
            try expect(UInt8(ascii: "\""), "expected a string")
            var out: [UInt8] = []
            while true {
                guard at < bytes.count else { throw HeaderError("unterminated string") }
                let c = bytes[at]
                at += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 {
                    throw HeaderError("control character 0x\(String(c, radix: 16)) in a string (offset \(at - 1))")
                }
                guard c == UInt8(ascii: "\\") else {
                    out.append(c)
                    continue
                }
                guard at < bytes.count else { throw HeaderError("unterminated string") }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: Array(try unicodeEscape().utf8))
                default: throw HeaderError("bad escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else {
                throw HeaderError("a string is not valid UTF-8 (safetensors headers are UTF-8)")
            }
            return s
        }

        /// \uXXXX (and a surrogate pair) as a string.
        mutating func unicodeEscape() throws(HeaderError) -> String {
            func hex4() throws(HeaderError) -> UInt32 {
                guard at + 4 <= bytes.count else { throw HeaderError("short \\u escape") }
                var v: UInt32 = 0
                for _ in 0..<4 {
                    guard let d = Character(Unicode.Scalar(bytes[at])).hexDigitValue else {
                        throw HeaderError("bad \\u escape")
                    }
                    v = v << 4 | UInt32(d)
                    at += 1
                }
                return v
            }
            var v = try hex4()
            if (0xD800..<0xDC00).contains(v) {
                guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                    throw HeaderError("lone surrogate in a \\u escape")
                }
                at += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw HeaderError("lone surrogate in a \\u escape") }
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(v) else { throw HeaderError("invalid code point in a \\u escape") }
            return String(Character(scalar))
        }

        /// A non-negative integer written as one (no fraction, no exponent), at most `maxNumber`.
        mutating func integer(_ what: String) throws(HeaderError) -> Int {
            let start = try peek() == UInt8(ascii: "-") ? at + 1 : at
            var end = start
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
            let next = end < bytes.count ? bytes[end] : 0
            guard end > start, ![UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(next) else {
                throw HeaderError("\(what) must hold non-negative integers (offset \(at))")
            }
            guard start == at else { throw HeaderError("\(what) must hold non-negative integers, got a negative one") }
            guard end - start <= 16 else { throw HeaderError("\(what): a number is larger than \(maxNumber)") }
            var v = 0
            for i in start..<end { v = v * 10 + Int(bytes[i] - UInt8(ascii: "0")) }
            guard v <= maxNumber else { throw HeaderError("\(what): \(v) is larger than \(maxNumber)") }
            at = end
            return v
        }

        mutating func integers(_ what: String, limit: Int) throws(HeaderError) -> [Int] {
            try expect(UInt8(ascii: "["), "\(what) must be a list")
            var out: [Int] = []
            if try consumeIf(UInt8(ascii: "]")) { return out }
            repeat {
                guard out.count < limit else { throw HeaderError("\(what) has more than \(limit) entries") }
                out.append(try integer(what))
            } while try consumeIf(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in \(what)")
            return out
        }

        /// One tensor's {dtype, shape, data_offsets}; other keys are skipped.
        mutating func entry(name: String) throws(HeaderError) -> Entry {
            func fail(_ m: String) -> HeaderError { HeaderError(m, tensor: name) }
            guard try peek() == UInt8(ascii: "{") else { throw fail("entry is not an object") }
            at += 1
            var dtype: String?
            var shape: [Int]?
            var offsets: [Int]?
            if try !consumeIf(UInt8(ascii: "}")) {
                repeat {
                    let key = try string()
                    try expect(UInt8(ascii: ":"), "expected ':'")
                    do {
                        switch key {
                        case "dtype": dtype = try string()
                        case "shape": shape = try integers("shape", limit: 16)
                        case "data_offsets": offsets = try integers("data_offsets", limit: 2)
                        default: try skipValue(depth: 0)
                        }
                    } catch { throw fail(error.message) }
                } while try consumeIf(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"), "expected ',' or '}' in tensor '\(name.prefix(80))'")
            }
            guard let dtype else { throw fail("missing dtype") }
            guard let shape else { throw fail("missing shape") }
            guard let offsets, offsets.count == 2 else { throw fail("data_offsets must be [begin, end]") }
            return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }

        /// __metadata__: an object of strings.
        mutating func stringMap() throws(HeaderError) -> [String: String] {
            guard try peek() == UInt8(ascii: "{") else { throw HeaderError("__metadata__ must map strings to strings") }
            at += 1
            var out: [String: String] = [:]
            if try consumeIf(UInt8(ascii: "}")) { return out }
            repeat {
                let key = try string()
                try expect(UInt8(ascii: ":"), "expected ':' in __metadata__")
                guard try peek() == UInt8(ascii: "\"") else {
                    throw HeaderError("__metadata__ must map strings to strings")
                }
                out[key] = try string()
            } while try consumeIf(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in __metadata__")
            return out
        }

        /// Any JSON value, validated and discarded (unknown keys), nesting bounded.
        mutating func skipValue(depth: Int) throws(HeaderError) {
            guard depth < maxDepth else { throw HeaderError("nested more than \(maxDepth) levels deep") }
            let c = try peek()
            switch c {
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                at += 1
                let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if try consumeIf(close) { return }
                repeat {
                    if c == UInt8(ascii: "{") {
                        _ = try string()
                        try expect(UInt8(ascii: ":"), "expected ':'")
                    }
                    try skipValue(depth: depth + 1)
                } while try consumeIf(UInt8(ascii: ","))
                try expect(close, "unbalanced brackets")
            default:
                let start = at
                while at < bytes.count, !",]} \t\r\n".utf8.contains(bytes[at]) { at += 1 }
                let word = String(decoding: bytes[start..<at], as: UTF8.self)
                guard ["true", "false", "null"].contains(word) || Double(word) != nil else {
                    throw HeaderError("invalid JSON value '\(word.prefix(40))' (offset \(start))")
                }
            }
        }
    }
}
