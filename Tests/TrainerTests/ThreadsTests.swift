import Foundation
import Tandem
import Testing

extension TrainerTests {
    /// train.threads: exact mode stays bit-identical across layouts (ranks x threads) with the
    /// same virtual shards; the setting is read, saved and refused as any other.
    @Suite struct ThreadsTests {
        func withNorm(_ c: TrainingConfig, threads: ThreadCount?) -> TrainingConfig {
            var c = c
            c.model = [
                .linear(out: 16, bias: true), .batchNorm(momentum: 0.1, eps: 1e-5, sync: false),
                .activation(.relu), .linear(out: 16, bias: true), .activation(.gelu), .linear(out: 3, bias: true),
            ]
            c.train.threads = threads
            return c
        }

        /// train.threads sets process-wide counts: back to the defaults after each test.
        let blasThreads = BLAS.threads
        func resetThreads() {
            Parallel.setThreads(1)
            Parallel.setProductThreads(0)
            BLAS.setThreads(blasThreads)
        }

        @Test func exactModeIsBitIdenticalAcrossRanksAndThreads() throws {
            defer { resetThreads() }
            let base = config(steps: 12, exact: true)
            let layouts: [(ranks: Int, threads: ThreadCount?)] = [
                (1, nil), (1, .count(2)), (2, .count(2)), (4, .count(1)),
            ]
            let runs = try layouts.map { try train(withNorm(base, threads: $0.threads), ranks: $0.ranks) }
            #expect(!runs[0].weights.isEmpty)
            for (layout, run) in zip(layouts, runs).dropFirst() {
                #expect(run.weights == runs[0].weights, "\(layout.ranks) ranks x \(String(describing: layout.threads))")
            }
        }

        /// A run stopped on 2 ranks x 2 threads resumes on 4 ranks x 1 thread (and on 1 x 1)
        /// bit for bit: the layout is not part of the state.
        @Test func exactModeResumesAcrossALayoutChange() throws {
            defer { resetThreads() }
            let base = config(steps: 12, exact: true)
            let straight = try train(withNorm(base, threads: nil), ranks: 1)
            for (ranks, threads) in [(4, ThreadCount.count(1)), (1, .count(1))] {
                let dir = tempDir()
                _ = try train(withNorm(base, threads: .count(2)), ranks: 2, runDir: dir, stopAt: 5)
                let resumed = try train(withNorm(base, threads: threads), ranks: ranks, runDir: dir, resume: "auto")
                #expect(resumed.weights == straight.weights, "resumed on \(ranks) ranks")
                try? FileManager.default.removeItem(atPath: dir)
            }
        }

        @Test func settingParsesAndRoundTrips() throws {
            for (value, expected) in [("auto", ThreadCount.auto), (3, .count(3))] as [(Any, ThreadCount)] {
                var saved = config(steps: 2).configValue
                var train = try #require(saved["train"] as? [String: Any])
                train["threads"] = value
                saved["train"] = train
                let parsed = try TrainingConfig.parse(saved, file: "t.yaml")
                #expect(parsed.train.threads == expected)
                #expect(try TrainingConfig.parse(parsed.configValue, file: "again").train.threads == expected)
            }
            #expect(ThreadCount.auto.resolved >= 1)
            var bad = config(steps: 2).configValue
            var train = try #require(bad["train"] as? [String: Any])
            train["threads"] = 0
            bad["train"] = train
            #expect(throws: ConfigError.self) { try TrainingConfig.parse(bad, file: "t.yaml") }
        }
    }
}
