import Data
import Distributed
import Foundation
import Tensor

/// Exact mode: the global batch is cut into V virtual shards; this rank computes its V/N shards
/// one by one, keeps each gradient apart, and `ExactReducer` adds all V in one fixed tree. The
/// same association for every N dividing V: bit-identical weights and logged losses.
final class ShardReducer: GradientReducer {
    let reducer: ExactReducer
    private let parameters: [Tensor]
    /// One flat gradient buffer per local shard: each shard's backward writes its own (the
    /// parameters' `grad` views are pointed into it), and the sum lands in the first.
    private let slots: [TensorStorage]
    let virtualShards: Int
    private var replaying = false
    private(set) var lastReduction: (seconds: Double, overlapped: Double?) = (0, nil)

    init(parameters: [Tensor], virtualShards: Int, communicator: Communicator) {
        self.parameters = parameters.filter(\.requiresGrad)
        let length = self.parameters.reduce(0) { $0 + $1.count }
        let reducer = ExactReducer(length: length, virtualShards: virtualShards, communicator: communicator)
        slots = reducer.localShards.map { _ in TensorStorage(count: Swift.max(length, 1)) }
        self.reducer = reducer
        self.virtualShards = virtualShards
    }

    var slotsPerBatch: Int { virtualShards }

    func passes(globalCount n: Int) -> [DataParallel.Pass] {
        reducer.localShards.map {
            DataParallel.Pass(rows: Partition.share(n, part: $0, parts: virtualShards), shard: $0)
        }
    }

    /// A replay adds every shard into the first buffer: only its finiteness is asked.
    func begin(replay: Bool) {
        replaying = replay
        if replay { use(0) }
    }

    func beforePass(index: Int, final: Bool) {
        if !replaying { use(index) }
    }

    func reduce(scale: Float) throws -> Bool {
        let t0 = ProcessInfo.processInfo.systemUptime
        try reducer.reduce(slots.map(\.base))
        lastReduction = (ProcessInfo.processInfo.systemUptime - t0, nil)
        GradientBuckets.pointFlat(parameters, into: slots[0])
        return VectorOps.scale(slots[0].base, reducer.length, by: scale)
    }

    func localGradientsAreFinite() -> Bool {
        replaying = false
        return VectorOps.allFinite(slots[0].base, reducer.length)
    }

    /// Zeroes a shard's buffer and points the gradients into it.
    private func use(_ slot: Int) {
        slots[slot].base.initialize(repeating: 0, count: slots[slot].count)
        GradientBuckets.pointFlat(parameters, into: slots[slot])
    }

    func detach() {}
}
