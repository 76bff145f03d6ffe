import Foundation

/// Prepares the next batch on a background thread while the current step computes.
public final class Prefetcher {
    private let queue = DispatchQueue(label: "tandem.prefetch")
    private var pending: DispatchWorkItem?
    /// The in-flight batch lands here: the work item owns the box, not the prefetcher, so a
    /// prefetcher released mid-flight is never touched by its thread. Sendable because the work
    /// item writes `batch` once and `take()` reads it only after `wait()` on that item.
    private final class Box: @unchecked Sendable { var batch: Batch? }
    private var box = Box()

    /// An idle prefetcher.
    public init() {}

    /// Starts preparing a batch; `take()` returns it.
    public func start(_ make: @escaping () -> Batch) {
        precondition(pending == nil, "Prefetcher: a batch is already in flight")
        let box = Box()
        let item = DispatchWorkItem { box.batch = make() }
        self.box = box
        pending = item
        queue.async(execute: item)
    }

    /// Waits for the batch started last.
    public func take() -> Batch {
        guard let item = pending else { preconditionFailure("Prefetcher: take() without start()") }
        item.wait()
        pending = nil
        defer { box = Box() }
        guard let batch = box.batch else { preconditionFailure("Prefetcher: the batch was not made") }
        return batch
    }

    /// Waits for a batch in flight, if any, and drops it (training ended before it was used).
    public func cancel() {
        pending?.wait()
        pending = nil
        box = Box()
    }

    deinit { pending?.wait() }

    /// Whether a batch is in flight.
    public var isBusy: Bool { pending != nil }
}
