import Glibc

extension Communicator {
    /// How many distinct hosts (by host name) the ranks run on: a collective, every rank calls it.
    public func hostCount() throws -> Int {
        let width = 256
        var mine = [UInt8](repeating: 0, count: width)
        mine.withUnsafeMutableBytes { b in
            if let p = b.baseAddress?.assumingMemoryBound(to: CChar.self) { _ = gethostname(p, width - 1) }
        }
        var all = [UInt8](repeating: 0, count: width * size)
        try mine.withUnsafeBytes { send in
            try all.withUnsafeMutableBytes { try allgather(send, into: $0) }
        }
        return Set((0..<size).map { all[$0 * width..<($0 + 1) * width] }).count
    }
}
