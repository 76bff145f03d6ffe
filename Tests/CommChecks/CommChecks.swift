import Distributed
import Tensor

/// Collective checks that run on any communicator: in-process (SimulatedCommunicator, from
/// DistributedTests) and under mpirun (the tandem-mpi-check executable). Each returns failures.
public enum CommChecks {
    public static func all(_ c: Communicator) throws -> [String] {
        var failures: [String] = []
        func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
            if !ok { failures.append("rank \(c.rank): \(what())") }
        }
        let n = c.size
        let r = c.rank

        try c.barrier()
        let hosts = try c.hostCount()
        expect(hosts == 1, "every rank runs on this machine, but hostCount() said \(hosts)")

        var bytes = [UInt8](repeating: UInt8(r), count: 5)
        try bytes.withUnsafeMutableBytes { try c.broadcast($0, root: n - 1) }
        expect(bytes == [UInt8](repeating: UInt8(n - 1), count: 5), "broadcast from the last rank gave \(bytes)")

        let count = 1000
        var f = (0..<count).map { Float(r + 1) + Float($0) * 0.5 }
        try f.withUnsafeMutableBufferPointer { try c.allreduce($0) }
        let ranksSum = Float(n * (n + 1) / 2)
        expect(
            f.enumerated().allSatisfy { $0.element == ranksSum + Float(n) * Float($0.offset) * 0.5 },
            "allreduce float32 sum wrong")

        let d = try c.allreduce([Double(r), 1, 0.25])
        expect(d == [Double(n * (n - 1) / 2), Double(n), 0.25 * Double(n)], "allreduce float64 gave \(d)")

        var big = [Float](repeating: Float(r), count: 70_000)
        try big.withUnsafeMutableBufferPointer { b in
            let req = try c.startAllreduce(b)
            _ = try req.test()
            try req.wait()
        }
        expect(big.allSatisfy { $0 == Float(n * (n - 1) / 2) }, "non-blocking allreduce wrong")

        let gathered = try c.allgather(UInt64(100 + r))
        expect(gathered == (0..<n).map { UInt64(100 + $0) }, "allgather gave \(gathered)")

        // alltoallv: rank r sends (k + 1) values r*100 + k to rank k.
        let sendCounts = (0..<n).map { $0 + 1 }
        let send = (0..<n).flatMap { k in [Float](repeating: Float(r * 100 + k), count: k + 1) }
        var recv = [Float](repeating: -1, count: n * (r + 1))
        try recv.withUnsafeMutableBufferPointer { rb in
            try c.alltoallv(
                send, sendCounts: sendCounts, rb.baseAddress!, recvCounts: [Int](repeating: r + 1, count: n))
        }
        let expectRecv = (0..<n).flatMap { src in [Float](repeating: Float(src * 100 + r), count: r + 1) }
        expect(recv == expectRecv, "alltoallv gave \(recv)")

        // allgatherv, in place: rank k contributes k + 2 values of k.
        let counts = (0..<n).map { $0 + 2 }
        var whole = [Float](repeating: -1, count: counts.reduce(0, +))
        let mine = counts[..<r].reduce(0, +)
        for i in 0..<counts[r] { whole[mine + i] = Float(r) }
        try whole.withUnsafeMutableBufferPointer { w in
            try c.allgatherv(w.baseAddress! + mine, w.baseAddress!, counts: counts)
        }
        expect(whole == (0..<n).flatMap { [Float](repeating: Float($0), count: $0 + 2) }, "allgatherv gave \(whole)")

        failures += try buckets(c)
        failures += try bfloat16(c)
        failures += try exact(c)
        return failures
    }

    /// bfloat16 sums (blocking and not): small integers are exact in bfloat16, so every rank gets
    /// exactly the rounded sum whatever order the library adds in; compressed buckets stay within
    /// bfloat16's precision of the float32 reduction.
    static func bfloat16(_ c: Communicator) throws -> [String] {
        var failures: [String] = []
        let n = 1000
        let want = (0..<n).map { i in BFloat16.encode(Float((1...c.size).reduce(0, +) * (i % 7))) }
        for nonBlocking in [false, true] {
            var mine = (0..<n).map { BFloat16.encode(Float((c.rank + 1) * ($0 % 7))) }
            try mine.withUnsafeMutableBufferPointer {
                if nonBlocking { try c.startAllreduceBFloat16($0).wait() } else { try c.allreduceBFloat16($0) }
            }
            if mine != want {
                failures.append("rank \(c.rank): bfloat16 allreduce (non-blocking: \(nonBlocking)) wrong")
            }
        }
        let shapes = [[30, 20], [30], [10, 30]]
        func params() -> [Tensor] {
            shapes.enumerated().map {
                Tensor.randomNormal($0.element, seed: 2, stream: UInt32($0.offset), requiresGrad: true)
            }
        }
        func backward(_ ps: [Tensor]) {
            var loss = ps[0].sum()
            for (i, p) in ps.enumerated() { loss = loss + (p * Float(c.rank + i + 1)).sum() + (p * p * p).sum() }
            loss.backward()
        }
        let reference = params()
        backward(reference)
        for p in reference { try c.allreduce(p.grad!.storage.buffer) }
        for schedule in GradientBuckets.Schedule.allCases {
            let ps = params()
            let buckets = GradientBuckets(
                parameters: ps, bucketBytes: 1024, schedule: schedule, compression: .bf16, communicator: c)
            buckets.zero()
            backward(ps)
            _ = try buckets.finish(scale: 1)
            for (a, b) in zip(ps, reference) {
                let scale = b.grad!.scalars.map(abs).max() ?? 1
                let worst = zip(a.grad!.scalars, b.grad!.scalars).map { abs($0 - $1) }.max() ?? 0
                if worst > scale * 0.02 {
                    failures.append(
                        "rank \(c.rank): \(schedule) bf16 buckets differ by \(worst) (values up to \(scale))")
                }
            }
        }
        return failures
    }

    /// Bucketed, overlapped reduction equals a plain per-parameter allreduce.
    static func buckets(_ c: Communicator) throws -> [String] {
        let shapes = [[30, 20], [30], [10, 30], [10], [7, 3, 2]]
        func params() -> [Tensor] {
            shapes.enumerated().map {
                Tensor.randomNormal($0.element, seed: 1, stream: UInt32($0.offset), requiresGrad: true)
            }
        }
        // Each rank's loss weights differ, so its gradients differ.
        func backward(_ ps: [Tensor]) {
            var loss = (ps[0] * ps[0]).sum()
            for (i, p) in ps.enumerated() { loss = loss + (p * Float(c.rank + i + 1)).sum() + (p * p * p).sum() }
            loss.backward()
        }
        let reference = params()
        backward(reference)
        for p in reference { try c.allreduce(p.grad!.storage.buffer) }
        var failures: [String] = []
        for schedule in GradientBuckets.Schedule.allCases {
            let ps = params()
            let buckets = GradientBuckets(parameters: ps, bucketBytes: 1024, schedule: schedule, communicator: c)
            if buckets.buckets.count < 3 {
                failures.append("rank \(c.rank): expected several buckets, got \(buckets.buckets.count)")
            }
            for round in 0..<2 {  // twice: hooks re-arm after zero()
                buckets.zero()
                backward(ps)
                let finite = try buckets.finish(scale: 1)
                for (a, b) in zip(ps, reference) where a.grad!.scalars != b.grad!.scalars {
                    failures.append(
                        "rank \(c.rank): \(schedule), round \(round): bucketed gradient differs from per-parameter "
                            + "allreduce")
                }
                if !finite { failures.append("rank \(c.rank): finite gradients reported as non-finite") }
            }
        }
        return failures
    }

    /// Heap copies of the arrays (the reducer works on raw buffers); the caller deallocates them.
    public static func buffers(_ arrays: [[Float]]) -> [UnsafeMutablePointer<Float>] {
        arrays.map { a in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
            p.initialize(from: a, count: a.count)
            return p
        }
    }

    /// Exact mode equals the single-process tree sum bit for bit.
    static func exact(_ c: Communicator) throws -> [String] {
        let v = 8
        let length = 1001
        func shard(_ k: Int) -> [Float] { Tensor.randomNormal([length], seed: 77, stream: UInt32(k)).scalars }
        // Reference: all V micro-shards summed in the same tree on one process.
        let ptrs = buffers((0..<v).map(shard))
        defer { ptrs.forEach { $0.deallocate() } }
        ExactReducer.treeSum(ptrs, length)
        let reference = Array(UnsafeBufferPointer(start: ptrs[0], count: length))
        guard c.size <= v, v % c.size == 0, c.size & (c.size - 1) == 0 else { return [] }
        let reducer = ExactReducer(length: length, virtualShards: v, communicator: c)
        let locals = buffers(reducer.localShards.map(shard))
        defer { locals.forEach { $0.deallocate() } }
        try reducer.reduce(locals)
        let got = Array(UnsafeBufferPointer(start: locals[0], count: length))
        return got == reference ? [] : ["rank \(c.rank): exact-mode sum differs from the one-process tree sum"]
    }
}
