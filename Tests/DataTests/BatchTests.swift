import Data
import Foundation
import Testing

@Suite struct BatchTests {
    func images() throws -> Dataset {
        try Dataset(
            features: .bytes((0..<(6 * 16)).map { UInt8($0 % 200) }),
            targets: .classes([0, 1, 2, 0, 1, 2], classes: 3),
            sampleShape: [1, 4, 4], source: "test")
    }

    @Test func bytesAreScaledAndNormalisedInOnePass() throws {
        let b = BatchBuilder(dataset: try images(), preprocessing: Preprocessing(mean: 0.5, std: 0.25), seed: 1)
        let batch = b.make(ids: [2, 0], epoch: 0, augment: false)
        #expect(batch.x.shape == [2, 1, 4, 4] && batch.labels == [2, 0])
        #expect(abs(batch.x.data[0] - (32.0 / 255 - 0.5) / 0.25) < 1e-5)  // sample 2's first byte is 32
        #expect(abs(batch.x.data[16] - (0 - 0.5) / 0.25) < 1e-5)
    }

    @Test func oneHotAndRegressionTargets() throws {
        let b = BatchBuilder(dataset: try images(), preprocessing: Preprocessing(oneHot: true), seed: 1)
        #expect(b.make(ids: [1, 2], epoch: 0, augment: false).targets!.scalars == [0, 1, 0, 0, 0, 1])
        let r = try Synthetic.linearRegression(count: 8, seed: 2)
        let rb = BatchBuilder(dataset: r, preprocessing: Preprocessing(), seed: 1).make(
            ids: [3], epoch: 0, augment: false)
        #expect(rb.targets!.shape == [1, 1])
    }

    /// A sample's augmentation depends on (seed, epoch, sample) only: not on the batch it is in.
    @Test func augmentationIsKeyedBySample() throws {
        let p = Preprocessing(horizontalFlip: true, cropPadding: 1)
        let b = BatchBuilder(dataset: try images(), preprocessing: p, seed: 4)
        let all = b.make(ids: [0, 1, 2, 3, 4, 5], epoch: 1, augment: true)
        let some = b.make(ids: [4, 1], epoch: 1, augment: true)
        #expect(Array(all.x.scalars[64..<80]) == Array(some.x.scalars[0..<16]))
        #expect(Array(all.x.scalars[16..<32]) == Array(some.x.scalars[16..<32]))
        let plain = b.make(ids: [0, 1, 2, 3, 4, 5], epoch: 1, augment: false)
        #expect(all.x.scalars != plain.x.scalars)  // something changed
        // A new epoch, new draws.
        #expect(b.make(ids: [0, 1, 2, 3, 4, 5], epoch: 2, augment: true).x.scalars != all.x.scalars)
    }

    @Test func flipMirrorsRows() throws {
        let d = try Dataset(
            features: .bytes([1, 2, 3, 4]), targets: .classes([0], classes: 1), sampleShape: [1, 1, 4], source: "t")
        let b = BatchBuilder(
            dataset: d, preprocessing: Preprocessing(mean: 0, std: 1.0 / 255, horizontalFlip: true), seed: 0)
        // Find an epoch whose draw flips sample 0, then check the mirror.
        let draws = (0..<20).map { b.make(ids: [0], epoch: $0, augment: true).x.scalars.map { $0.rounded() } }
        #expect(draws.contains([1, 2, 3, 4]) && draws.contains([4, 3, 2, 1]))
        #expect(draws.allSatisfy { $0 == [1, 2, 3, 4] || $0 == [4, 3, 2, 1] })
    }

    @Test func prefetcherReturnsWhatItPrepared() throws {
        let b = BatchBuilder(dataset: try images(), preprocessing: Preprocessing(), seed: 1)
        let p = Prefetcher()
        p.start { b.make(ids: [5, 4], epoch: 0, augment: false) }
        #expect(p.isBusy)
        #expect(p.take().labels == [2, 1])
        #expect(!p.isBusy)
    }

    /// A prefetcher released (or cancelled) while its batch is being made is never touched by
    /// that thread afterwards (it held the prefetcher unowned and trapped).
    @Test func prefetcherCanGoAwayMidFlight() throws {
        let b = BatchBuilder(dataset: try images(), preprocessing: Preprocessing(), seed: 1)
        let made = DispatchSemaphore(value: 0)
        do {
            let p = Prefetcher()
            p.start {
                Thread.sleep(forTimeInterval: 0.05)
                defer { made.signal() }
                return b.make(ids: [1], epoch: 0, augment: false)
            }
        }
        #expect(made.wait(timeout: .now() + 5) == .success)
        let p = Prefetcher()
        p.start { b.make(ids: [2], epoch: 0, augment: false) }
        p.cancel()
        #expect(!p.isBusy)
        p.start { b.make(ids: [3], epoch: 0, augment: false) }
        #expect(p.take().ids == [3])
    }
}
