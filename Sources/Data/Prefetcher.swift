import Foundation

/// Prepares the next batch on a background thread while the current step computes.
public final class Prefetcher {
    private let queue = DispatchQueue(label: "tandem.prefetch")
    private var pending: DispatchWorkItem?
    private var result: Batch?

    public init() {}

    /// Starts preparing a batch; `take()` returns it.
    public func start(_ make: @escaping () -> Batch) {
        precondition(pending == nil, "Prefetcher: a batch is already in flight")
        let item = DispatchWorkItem { [unowned self] in self.result = make() }
        pending = item
        queue.async(execute: item)
    }

    /// Waits for the batch started last.
    public func take() -> Batch {
        guard let item = pending else { preconditionFailure("Prefetcher: take() without start()") }
        item.wait()
        pending = nil
        defer { result = nil }
        return result!
    }

    /// Whether a batch is in flight.
    public var isBusy: Bool { pending != nil }
}
