/// Seeded permutations: a pure function of (seed, epoch).
public enum Permutation {
    /// Fisher-Yates driven by the counter-based generator (purpose: shuffle, stream: epoch).
    public static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var p = Array(0..<count)
        let gen = Philox(seed: seed)
        var i = count - 1
        while i > 0 {
            let r = gen.bits(.shuffle, stream: UInt32(truncatingIfNeeded: epoch), index: UInt64(i))
            let j = Int((UInt64(r.0) &* UInt64(i + 1)) >> 32)  // multiply-shift: uniform enough for n << 2^32
            p.swapAt(i, j)
            i -= 1
        }
        return p
    }
}

/// Where a run is in its data: the epoch and how many samples of that epoch's order are used.
/// Independent of the number of ranks, so a run can resume with another world size.
public struct Cursor: Codable, Equatable, Sendable {
    /// Largest epoch number accepted from a file (far beyond any run, far from overflow).
    public static let maxEpoch = 1 << 40
    /// The epoch, from 0.
    public var epoch: Int
    /// Samples of the epoch's order already used.
    public var offset: Int
    /// A position (the start by default).
    public init(epoch: Int = 0, offset: Int = 0) {
        self.epoch = epoch
        self.offset = offset
    }
}

/// Why a sampler cannot be made, with the numbers (callers phrase it in their own terms).
public enum SamplerError: Error, Equatable, CustomStringConvertible {
    case emptyBatch
    /// Every rank needs at least one sample of each full global batch.
    case batchSmallerThanRanks(batch: Int, ranks: Int)
    /// With drop_last, an epoch needs at least one whole batch.
    case batchLargerThanData(batch: Int, samples: Int)

    /// The message as one line.
    public var description: String {
        switch self {
        case .emptyBatch: return "a batch must hold at least one sample"
        case .batchSmallerThanRanks(let b, let n): return "a batch of \(b) cannot give each of \(n) ranks a sample"
        case .batchLargerThanData(let b, let n): return "a batch of \(b) is larger than the \(n) samples"
        }
    }
}

/// Splits each global batch among ranks. Global step s covers positions [s*B, (s+1)*B) of the
/// epoch's order; rank r of N takes its contiguous share of those positions. Shares differ by at
/// most one sample (B need not divide by N), so a run continues on any number of ranks; the
/// trainer weighs gradients and metrics by the real counts.
public struct ShardedSampler {
    public let count: Int, batchSize: Int, rank: Int, worldSize: Int
    public let seed: UInt64, shuffle: Bool, dropLast: Bool

    /// A sampler for `count` samples; throws when the batch cannot be shared among the ranks or is
    /// larger than the data (with drop_last).
    public init(
        count: Int, batchSize: Int, rank: Int, worldSize: Int, seed: UInt64,
        shuffle: Bool = true, dropLast: Bool = true
    ) throws {
        guard batchSize > 0 else { throw SamplerError.emptyBatch }
        guard batchSize >= worldSize else {
            throw SamplerError.batchSmallerThanRanks(batch: batchSize, ranks: worldSize)
        }
        guard count >= (dropLast ? batchSize : 1) else {
            throw SamplerError.batchLargerThanData(batch: batchSize, samples: count)
        }
        self.count = count
        self.batchSize = batchSize
        self.rank = rank
        self.worldSize = worldSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    /// Why `cursor` (read from a checkpoint) is not a position this sampler can reach, or nil.
    public func problem(with cursor: Cursor) -> String? {
        guard cursor.epoch >= 0, cursor.epoch <= Cursor.maxEpoch else {
            return "epoch \(cursor.epoch) is outside 0...\(Cursor.maxEpoch)"
        }
        guard cursor.offset >= 0, cursor.offset % batchSize == 0,
            cursor.offset + (dropLast ? batchSize : 1) <= count
        else {
            return "offset \(cursor.offset) is not the start of a batch of \(batchSize) among \(count) samples"
        }
        return nil
    }

    /// Global steps in one epoch.
    public var stepsPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The order of the epoch's samples (dataset indices).
    public func order(epoch: Int) -> [Int] {
        shuffle ? Permutation.shuffled(count: count, seed: seed, epoch: epoch) : Array(0..<count)
    }

    /// Samples of one global step starting at `cursor`, as this rank's dataset indices, the global
    /// batch's real size, and the cursor after it. `order` is `order(epoch: cursor.epoch)`.
    public func step(at cursor: Cursor, order: [Int]) -> (ids: [Int], globalCount: Int, next: Cursor) {
        let global = min(batchSize, count - cursor.offset)
        precondition(
            global > 0 && (!dropLast || global == batchSize), "sampler: cursor \(cursor) is past the epoch's last step")
        let share = Partition.share(global, part: rank, parts: worldSize)  // near-equal, never padded
        let ids = Array(order[(cursor.offset + share.lowerBound)..<(cursor.offset + share.upperBound)])
        var next = Cursor(epoch: cursor.epoch, offset: cursor.offset + global)
        if next.offset + (dropLast ? batchSize : 1) > count { next = Cursor(epoch: cursor.epoch + 1, offset: 0) }
        return (ids, global, next)
    }
}
