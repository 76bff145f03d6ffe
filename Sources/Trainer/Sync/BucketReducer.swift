import Data
import Distributed
import Foundation
import Tensor

/// Fast mode: each rank computes its contiguous share of every global batch; gradient buckets
/// are all-reduced as backward fills them (PyTorch DDP's overlap) or after backward, as the
/// buckets' schedule says. Gradient accumulation holds communication until the last pass.
final class BucketReducer: GradientReducer {
    let buckets: GradientBuckets
    private let rank: Int, ranks: Int
    private var replaying = false
    private(set) var lastReduction: (seconds: Double, overlapped: Double?) = (0, nil)

    init(
        parameters: [Tensor], bucketMB: Double, schedule: GradientBuckets.Schedule,
        compression: GradientBuckets.Compression, communicator: Communicator
    ) {
        rank = communicator.rank
        ranks = communicator.size
        buckets = GradientBuckets(
            parameters: parameters, bucketBytes: max(1, Int(bucketMB * 1_048_576)), schedule: schedule,
            compression: compression, communicator: communicator)
    }

    var slotsPerBatch: Int { 1 }

    func passes(globalCount n: Int) -> [DataParallel.Pass] {
        [DataParallel.Pass(rows: Partition.share(n, part: rank, parts: ranks), shard: rank)]
    }

    func begin(replay: Bool) {
        replaying = replay
        buckets.zero()
    }

    func beforePass(index: Int, final: Bool) {
        buckets.holdCommunication = replaying || !final
        buckets.rearm()
    }

    func reduce(scale: Float) throws -> Bool {
        let finite = try buckets.finish(scale: scale)
        lastReduction = (
            buckets.waitSeconds, Double(buckets.completedDuringBackward) / Double(max(buckets.buckets.count, 1))
        )
        return finite
    }

    func localGradientsAreFinite() -> Bool {
        buckets.holdCommunication = false
        replaying = false
        return buckets.buckets.allSatisfy { VectorOps.allFinite($0.storage.base, $0.storage.count) }
    }

    func detach() { buckets.detach() }
}
