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
    /// What the batch in flight was made of: a request for anything else does not take it.
    private var prefetchedKey: (ids: [Int], epoch: Int)?

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

    /// A training batch of these dataset indices: the prefetched one if it is the batch of
    /// exactly these ids and epoch. Another request (a non-finite step's replay of its own
    /// samples) is made here and leaves the prefetch in flight for the step it was made for.
    func trainBatch(_ ids: [Int], epoch: Int) -> Batch {
        if prefetcher.isBusy, let key = prefetchedKey, key.epoch == epoch, key.ids == ids {
            prefetchedKey = nil
            return prefetcher.take()
        }
        return train.make(ids: ids, epoch: epoch, augment: true)
    }

    /// Starts making the training batch of `ids` in `epoch` in the background (a batch still in
    /// flight that no step took is dropped first).
    func prefetch(ids: [Int], epoch: Int) {
        if prefetcher.isBusy { cancelPrefetch() }
        let builder = train
        prefetchedKey = (ids, epoch)
        prefetcher.start { builder.make(ids: ids, epoch: epoch, augment: true) }
    }

    /// Whether a batch is being prepared in the background.
    var isPrefetching: Bool { prefetcher.isBusy }

    /// Drops a batch in flight (training ended before it was used).
    func cancelPrefetch() {
        prefetcher.cancel()
        prefetchedKey = nil
    }
}
