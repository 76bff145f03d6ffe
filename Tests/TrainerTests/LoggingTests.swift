import Foundation
import Logging
import Tandem
import TestSupport
import Testing

/// The trainer's messages go to the logger in `RunOptions` (the `tandem` executable's handler
/// prints them as `tandem: ...` lines), with the rank and step as metadata.
extension TrainerTests {
    @Suite struct LoggingTests {
        /// Records every message it is given.
        struct Capture: LogHandler {
            let records: Shared<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let all = metadata.merging(event.metadata ?? [:]) { $1 }
                records.withLock { $0.append((event.level, "\(event.message)", all)) }
            }
        }

        @Test func resumeNoticesReachTheGivenLoggerWithRankAndStep() throws {
            let records = Shared<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])
            let dir = tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let cfg = config(steps: 3)
            let data = TrainingData(train: try blobs(count: 200, seed: 1), test: try blobs(count: 90, seed: 2))
            for run in 0..<2 {  // nothing to resume from, then the first run's checkpoint
                var options = RunOptions(runDirectory: dir, resume: "auto", quiet: true)
                options.logger = Logger(label: "test") { _ in Capture(records: records) }
                let model = try ModelBuilder.build(cfg.model, sampleShape: [8], seed: cfg.seed)
                var longer = cfg
                longer.train.maxSteps = 3 * (run + 1)
                try Trainer(
                    model: model, data: data, config: longer, communicator: LocalCommunicator(), options: options
                )
                .fit()
            }
            let got = records.current
            #expect(got.contains { $0.level == .notice && $0.message.contains("no valid checkpoint") })
            let resumed = try #require(got.first { $0.message.hasPrefix("resuming from") })
            #expect(resumed.level == .notice && resumed.metadata["rank"] == "0", "\(resumed)")
            #expect(resumed.metadata["step"] != nil)
        }
    }
}
