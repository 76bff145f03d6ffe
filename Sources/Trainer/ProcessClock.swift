import Foundation

/// How long this process has been running, from the kernel's record of its start.
enum ProcessClock {
    /// Seconds since the process started (10 ms resolution: the kernel counts clock ticks), or nil
    /// where /proc is not readable.
    static func secondsSinceStart() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 19, let start = Double(fields[19]), ticks > 0,
            let now = uptime.split(separator: " ").first.flatMap({ Double($0) })
        else { return nil }
        return max(0, now - start / ticks)
    }
}
