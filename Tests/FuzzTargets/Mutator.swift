/// Deterministic byte mutations (libFuzzer's basic set plus number swaps for text formats),
/// driven by SplitMix64 so a failing input is reproduced from its seed and index alone.
public struct Mutator {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Numbers that break size arithmetic and parsers.
    static let numbers = [
        "0", "-1", "1", "2.0", "1e999", "-0", "4294967296", "9223372036854775807",
        "99999999999999999999", "3000000000", "1e-320", "NaN", "0x10", "18446744073709551615",
    ]
    static let bytes: [UInt8] = [0, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x2C, 0x0A, 0x7B, 0x5B, 0x3A, 0x26, 0x2A]

    /// One to four mutations of `input`.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        for _ in 0...below(4) {
            let at = below(b.count + 1)
            switch below(9) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(1 << below(8))
            case 1 where !b.isEmpty: b[min(at, b.count - 1)] = Mutator.bytes[below(Mutator.bytes.count)]
            case 2: b.insert(contentsOf: (0..<1 + below(8)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
            case 3 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + below(16)))
            case 4 where !b.isEmpty:  // duplicate a range somewhere else
                let start = below(b.count)
                let len = 1 + below(min(64, b.count - start))
                b.insert(contentsOf: b[start..<start + len], at: below(b.count + 1))
            case 5: b = Array(b.prefix(at))  // truncate
            case 6:  // swap a run of digits for a hostile number
                guard let start = b.indices.dropFirst(at).first(where: { b[$0] >= 48 && b[$0] <= 57 }) else { break }
                var end = start
                while end < b.count, (b[end] >= 48 && b[end] <= 57) || b[end] == 46 { end += 1 }
                b.replaceSubrange(start..<end, with: Array(Mutator.numbers[below(Mutator.numbers.count)].utf8))
            case 7 where b.count >= 8 && at + 8 <= b.count:  // an interesting little-endian 64-bit value
                let v: [UInt64] = [0, 1, UInt64.max, UInt64(Int64.max), 1 << 32, 1 << 31, 100_000_001]
                withUnsafeBytes(of: v[below(v.count)].littleEndian) { b.replaceSubrange(at..<at + 8, with: $0) }
            default: b.insert(Mutator.bytes[below(Mutator.bytes.count)], at: at)
            }
        }
        return b
    }
}
