import CommChecks
import Distributed
import Foundation
import Tensor
import TestSupport
import Testing

@Suite struct SimulatedCommunicatorTests {
    @Test(arguments: [1, 2, 3, 4])
    func everyCollective(ranks: Int) throws {
        let failures = Shared<[String]>([])
        try SimulatedWorld.run(size: ranks, timeout: 30) { c in
            let f = try CommChecks.all(c)
            failures.withLock { $0 += f }
        }
        #expect(failures.current.isEmpty, "\(failures.current)")
    }

    @Test func localCommunicatorPassesTheSameChecks() throws {
        #expect(try CommChecks.all(LocalCommunicator()).isEmpty)
    }

    @Test func aRankThatSkipsACollectiveTripsTheTimeout() {
        let start = Date()
        #expect {
            try SimulatedWorld.run(size: 2, timeout: 0.5) { c in
                if c.rank == 0 { _ = try c.allreduce([1.0]) }
            }
        } throws: { e in
            "\(e)".contains("has not completed after 0.5 s")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func scheduleCheckNamesRanksAndCallSites() {
        #expect {
            try SimulatedWorld.run(size: 2, timeout: 10) { raw in
                let c = CheckedCommunicator(raw)
                try c.at().barrier()
                if c.rank == 0 { try c.at().barrier() } else { _ = try c.at().allreduce([2.0]) }
            }
        } throws: { e in
            let m = "\(e)"
            return m.contains("ranks disagree on the next collective")
                && m.contains("rank 0: #2 barrier at DistributedTests/SimulatedTests.swift:")
                && m.contains("rank 1: #2 allreduce float64 x 1 at DistributedTests/SimulatedTests.swift:")
        }
    }

    /// Exact mode: bit-identical sums for N = 1, 2, 4 on the same micro-shards.
    @Test func exactModeIsBitIdenticalAcrossWorldSizes() throws {
        let length = 777
        let v = 4
        @Sendable func shard(_ k: Int) -> [Float] {
            Tensor.randomNormal([length], std: 3, seed: 5, stream: UInt32(k)).scalars
        }
        var results: [[Float]] = []
        for n in [1, 2, 4] {
            let got = Shared<[Float]>([])
            try SimulatedWorld.run(size: n, timeout: 30) { c in
                let reducer = ExactReducer(length: length, virtualShards: v, communicator: c)
                let ptrs = CommChecks.buffers(reducer.localShards.map(shard))
                defer { ptrs.forEach { $0.deallocate() } }
                try reducer.reduce(ptrs)
                let mine = Array(UnsafeBufferPointer(start: ptrs[0], count: length))
                if c.rank == 0 { got.withLock { $0 = mine } }
            }
            results.append(got.current)
        }
        #expect(results[0].count == length)
        #expect(results[0] == results[1] && results[1] == results[2])
    }
}

@Suite struct MPIThreadLevelTests {
    /// The watchdog calls MPI_Abort from its own thread: anything below MPI_THREAD_MULTIPLE is refused.
    @Test func lessThanThreadMultipleIsRefusedByName() throws {
        for (level, name) in [
            (Int32(0), "MPI_THREAD_SINGLE"), (1, "MPI_THREAD_FUNNELED"), (2, "MPI_THREAD_SERIALIZED"),
        ] {
            #expect { try MPICommunicator.checkThreadLevel(provided: level) } throws: { e in
                "\(e)".contains(
                    "MPI_Init_thread failed: granted \(name), but Tandem's watchdog needs MPI_THREAD_MULTIPLE")
            }
        }
        try MPICommunicator.checkThreadLevel(provided: 3)
    }
}

/// bfloat16 as gradient compression rounds it.
@Suite struct BFloat16Tests {
    @Test func roundsToNearestEvenAndKeepsSpecialValues() {
        #expect(BFloat16.encode(1) == 0x3F80 && BFloat16.decode(0x3F80) == 1)
        #expect(BFloat16.encode(1 + 0x1p-8) == 0x3F80)  // halfway: to the even neighbour (1.0)
        #expect(BFloat16.encode(1 + 3 * 0x1p-8) == 0x3F82)  // halfway: to the even neighbour (1 + 2^-6)
        #expect(BFloat16.encode(1 + 0x1p-8 + 0x1p-20) == 0x3F81)  // above halfway: up
        #expect(BFloat16.encode(-2.5) == 0xC020)
        #expect(BFloat16.decode(BFloat16.encode(.infinity)) == .infinity)
        #expect(BFloat16.decode(BFloat16.encode(.nan)).isNaN)
        #expect(BFloat16.decode(BFloat16.encode(Float.greatestFiniteMagnitude)) == .infinity)  // rounds up past the top
        #expect(BFloat16.sum(BFloat16.encode(256), BFloat16.encode(1)) == BFloat16.encode(256))  // 257 is not bf16
    }
}
