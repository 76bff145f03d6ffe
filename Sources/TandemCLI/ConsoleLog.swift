import ArgumentParser
import Distributed
import Logging

/// The `tandem` command's log handler: one plain line on stderr per message, `tandem: ` first
/// (`tandem: warning: ` for warnings), as every other message of the command. Metadata (rank,
/// step) is left out of the line: the trainer logs on rank 0, and its messages name the step.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix =
            switch event.level {
            case .warning: "tandem: warning: "
            case .error, .critical: "tandem: error: "
            default: "tandem: "
            }
        printLine(toStandardError: prefix + "\(event.message)")
    }
}

/// `--log-level`: the lowest level printed (notice by default: resume notes, skipped steps, stops).
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .notice }

    /// Makes the console handler the process's log handler (once, before anything logs).
    func bootstrap() {
        let level = self.level
        LoggingSystem.bootstrap { _ in ConsoleLogHandler(logLevel: level) }
    }
}
