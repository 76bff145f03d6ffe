import Foundation

extension GradientBuckets {
    /// Bucket sizes `distributed.bucket_mb: auto` chooses among, in MiB.
    public static let candidateMB: [Double] = [0.25, 1, 4, 16, 64]

    /// The bucket size (MiB) that reduces `gradientBytes` of gradient fastest on `communicator`,
    /// measured: for each candidate, a few rounds of the allreduces one step would make (the
    /// gradient cut into buckets of that size). Every rank measures; the times are summed across
    /// ranks, so every rank makes the same choice. Returns the choice and each candidate tried
    /// with its seconds per step.
    public static func measureBucketMB(gradientBytes: Int, communicator: Communicator) throws -> (
        choice: Double, tried: [(mb: Double, seconds: Double)]
    ) {
        let total = max(gradientBytes / 4, 1)
        // Candidates past the whole gradient are one bucket, as the largest useful one is.
        let usable =
            candidateMB.filter { $0 * 1_048_576 / 4 < Double(total) } + [
                candidateMB.first { $0 * 1_048_576 / 4 >= Double(total) } ?? candidateMB.last!
            ]
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: total)
        buffer.initialize(repeating: 0)
        defer { buffer.deallocate() }
        var seconds: [Double] = []
        for mb in usable {
            let size = min(Int(mb * 1_048_576 / 4), total)
            let rounds = 3
            try communicator.at().barrier()
            let t0 = ProcessInfo.processInfo.systemUptime
            for _ in 0..<rounds {
                var offset = 0
                while offset < total {
                    let n = min(size, total - offset)
                    try communicator.at().allreduce(UnsafeMutableBufferPointer(rebasing: buffer[offset..<offset + n]))
                    offset += n
                }
            }
            seconds.append((ProcessInfo.processInfo.systemUptime - t0) / Double(rounds))
        }
        let summed = try communicator.at().allreduce(seconds)  // the same numbers on every rank
        let best = summed.indices.min { summed[$0] < summed[$1] } ?? 0
        return (usable[best], zip(usable, summed).map { ($0, $1 / Double(communicator.size)) })
    }
}
