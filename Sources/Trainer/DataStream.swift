import Data

/// The data as the loop consumes it: the sampler with each epoch's order (cached), training
/// batches (the next one prepared in the background where prefetching is on), and the batch
/// builders evaluation reads.
final class DataStream {
    let sampler: ShardedSampler
    let train: BatchBuilder
    let test: BatchBuilder
    let validation: BatchBuilder?
    private let prefetcher = Prefetcher()
    private var orderCache: (epoch: Int, order: [Int])?

    init(sampler: ShardedSampler, data: TrainingData, seed: UInt64) {
        self.sampler = sampler
        train = BatchBuilder(dataset: data.train, preprocessing: data.preprocessing, seed: seed)
        test = BatchBuilder(dataset: data.test, preprocessing: data.preprocessing, seed: seed)
        validation = data.validation.map { BatchBuilder(dataset: $0, preprocessing: data.preprocessing, seed: seed) }
    }

    /// The epoch's sample order.
    func order(for epoch: Int) -> [Int] {
        if let c = orderCache, c.epoch == epoch { return c.order }
        let o = sampler.order(epoch: epoch)
        orderCache = (epoch, o)
        return o
    }

    /// A training batch of these dataset indices: the prefetched one if one is in flight.
    func trainBatch(_ ids: [Int], epoch: Int) -> Batch {
        if prefetcher.isBusy { return prefetcher.take() }
        return train.make(ids: ids, epoch: epoch, augment: true)
    }

    /// Starts making the batch of the step at `cursor` in the background.
    func prefetch(at cursor: Cursor) {
        let ids = sampler.step(at: cursor, order: order(for: cursor.epoch)).ids
        let builder = train
        prefetcher.start { builder.make(ids: ids, epoch: cursor.epoch, augment: true) }
    }

    /// Drops a batch in flight (training ended before it was used).
    func cancelPrefetch() { prefetcher.cancel() }
}
