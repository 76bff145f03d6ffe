import Data
import Testing

@Suite struct SamplerTests {
    @Test func permutationIsAPureFunctionOfSeedAndEpoch() {
        let a = Permutation.shuffled(count: 1000, seed: 5, epoch: 2)
        #expect(a == Permutation.shuffled(count: 1000, seed: 5, epoch: 2))
        #expect(a != Permutation.shuffled(count: 1000, seed: 5, epoch: 3))
        #expect(a != Permutation.shuffled(count: 1000, seed: 6, epoch: 2))
        #expect(a.sorted() == Array(0..<1000))
    }

    /// Every rank's shares over an epoch, put together, are exactly the epoch's order.
    @Test(arguments: 1...5)
    func unionOfSharesIsThePermutation(ranks: Int) throws {
        for dropLast in [true, false] {
            let n = 103
            let batch = 10 * ranks
            var merged = [Int]()
            let samplers = try (0..<ranks).map {
                try ShardedSampler(count: n, batchSize: batch, rank: $0, worldSize: ranks, seed: 7, dropLast: dropLast)
            }
            let order = samplers[0].order(epoch: 0)
            var cursor = Cursor()
            for _ in 0..<samplers[0].stepsPerEpoch {
                var next = cursor
                for s in samplers {
                    let step = s.step(at: cursor, order: order)
                    merged += step.ids
                    next = step.next
                }
                cursor = next
            }
            let used = dropLast ? n / batch * batch : n
            #expect(merged == Array(order.prefix(used)), "N=\(ranks) dropLast=\(dropLast)")
            #expect(cursor == Cursor(epoch: 1, offset: 0))
        }
    }

    /// Restoring a cursor mid-epoch with another N continues with the same global sample sequence.
    @Test func cursorRestoresWithAnotherWorldSize() throws {
        let n = 100
        let batch = 12
        func sequence(from cursor: Cursor, ranks: Int, steps: Int) throws -> [Int] {
            let samplers = try (0..<ranks).map {
                try ShardedSampler(count: n, batchSize: batch, rank: $0, worldSize: ranks, seed: 3)
            }
            var c = cursor
            var out = [Int]()
            for _ in 0..<steps {
                let order = samplers[0].order(epoch: c.epoch)
                var next = c
                for s in samplers {
                    let st = s.step(at: c, order: order)
                    out += st.ids
                    next = st.next
                }
                c = next
            }
            return out
        }
        let uninterrupted = try sequence(from: Cursor(), ranks: 2, steps: 14)
        let firstPart = try sequence(from: Cursor(), ranks: 2, steps: 5)
        let resumed = try sequence(from: Cursor(epoch: 0, offset: 60), ranks: 3, steps: 9)
        #expect(firstPart + resumed == uninterrupted)
        #expect(try sequence(from: Cursor(epoch: 0, offset: 60), ranks: 4, steps: 9) == resumed)
        // Any rank count: 12 does not divide by 5 or 7; shares differ by at most one sample.
        for ranks in [5, 7] {
            #expect(try sequence(from: Cursor(epoch: 0, offset: 60), ranks: ranks, steps: 9) == resumed)
            let sizes = try (0..<ranks).map {
                try ShardedSampler(count: n, batchSize: batch, rank: $0, worldSize: ranks, seed: 3)
                    .step(at: Cursor(), order: Array(0..<n)).ids.count
            }
            #expect(sizes.reduce(0, +) == batch && sizes.max()! - sizes.min()! == 1, "\(sizes)")
        }
    }

    /// The sampler says what is wrong with numbers; the trainer phrases it with config keys.
    @Test func tooSmallOrOversizedBatchesAreRefusedWithTheirNumbers() {
        #expect(throws: SamplerError.batchSmallerThanRanks(batch: 3, ranks: 4)) {
            try ShardedSampler(count: 100, batchSize: 3, rank: 0, worldSize: 4, seed: 1)
        }
        #expect(throws: SamplerError.batchLargerThanData(batch: 64, samples: 50)) {
            try ShardedSampler(count: 50, batchSize: 64, rank: 0, worldSize: 1, seed: 1)
        }
    }

    @Test func tailSharesAreUnevenNeverPadded() {
        #expect(Partition.share(7, part: 0, parts: 3) == 0..<3)
        #expect(Partition.share(7, part: 1, parts: 3) == 3..<5)
        #expect(Partition.share(7, part: 2, parts: 3) == 5..<7)
        #expect(Partition.share(2, part: 3, parts: 4).isEmpty)
    }

    @Test func noShuffleKeepsFileOrder() throws {
        let s = try ShardedSampler(count: 10, batchSize: 4, rank: 1, worldSize: 2, seed: 1, shuffle: false)
        #expect(s.step(at: Cursor(), order: s.order(epoch: 0)).ids == [2, 3])
    }
}
