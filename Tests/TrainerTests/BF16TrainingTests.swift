import Foundation
import Tandem
import Testing

/// train.precision: bf16 through the trainer: the same reproducibility promises as fp32 (inside
/// TrainerTests' serialization: runs compared bit for bit must not meet another test's threads).
extension TrainerTests {
    @Suite struct BF16TrainingTests {
        func bf16(_ c: TrainingConfig) -> TrainingConfig {
            var c = c
            c.train.precision = .bf16
            return c
        }

        /// Exact mode stays bit-identical on 1, 2 and 4 ranks in bf16, and bf16 really ran (the
        /// weights differ from fp32's, within what bf16's rounding explains).
        @Test func exactModeIsBitIdenticalAcrossRankCounts() throws {
            let runs = try [1, 2, 4].map { try train(bf16(config(steps: 25, exact: true)), ranks: $0) }
            #expect(
                !runs[0].weights.isEmpty && runs[0].weights == runs[1].weights && runs[1].weights == runs[2].weights)
            #expect(runs[0].events.map(\.loss) == runs[2].events.map(\.loss))
            let fp32 = try train(config(steps: 25, exact: true), ranks: 1)
            #expect(fp32.weights != runs[0].weights)
            for (a, b) in zip(fp32.weights, runs[0].weights) {
                let scale = a.map { abs($0) }.max() ?? 1
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 0.05 * scale, "bf16 weights \(worst) from fp32's (scale \(scale))")
            }
        }

        /// A bf16 run stopped and resumed ends bit for bit where the uninterrupted one does.
        @Test func stopAndResumeIsBitIdentical() throws {
            let straight = try train(bf16(config(steps: 30)), ranks: 2)
            let dir = tempDir()
            _ = try train(bf16(config(steps: 30)), ranks: 2, runDir: dir, stopAt: 15)
            let resumed = try train(bf16(config(steps: 30)), ranks: 2, runDir: dir, resume: "auto")
            #expect(!straight.weights.isEmpty && resumed.weights == straight.weights)
        }

        /// The setting round-trips through the saved config; older configs without it read fp32.
        @Test func precisionIsSavedWithTheConfig() throws {
            let saved = bf16(config(steps: 5)).configValue
            let train = try #require(saved["train"] as? [String: Any])
            #expect(train["precision"] as? String == "bf16")
            #expect(try TrainingConfig.parse(saved, file: "saved").train.precision == .bf16)
            var old = train
            old["precision"] = nil
            var withoutIt = saved
            withoutIt["train"] = old
            #expect(try TrainingConfig.parse(withoutIt, file: "old").train.precision == .fp32)
        }
    }
}
