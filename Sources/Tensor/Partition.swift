/// How Tandem splits n items among parts everywhere (batch shares among ranks, micro-shards,
/// gradient slices, evaluation blocks): contiguous, near-equal, earlier parts take the remainder.
public enum Partition {
    /// Part `part` of `parts`.
    public static func share(_ n: Int, part: Int, parts: Int) -> Range<Int> {
        precondition(parts > 0 && part >= 0 && part < parts, "Partition: part \(part) of \(parts)")
        let base = n / parts
        let extra = n % parts
        let start = part * base + Swift.min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}
