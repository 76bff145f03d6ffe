import CZlib
import Foundation
import Glibc

/// CRC-32 (zlib's) of checkpoint files, in chunks: zlib takes a 32-bit length, so one call on
/// a buffer of 4 GiB or more would not fit it.
enum Checksum {
    static let chunk = 1 << 24

    static func crc32(of bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex(update(0, $0)) }
    }

    static func update(_ crc: uLong, _ raw: UnsafeRawBufferPointer) -> uLong {
        var c = crc
        var offset = 0
        while offset < raw.count {
            let n = min(chunk, raw.count - offset)
            c = CZlib.crc32(c, raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset, uInt(n))
            offset += n
        }
        return c
    }

    static func hex(_ c: uLong) -> String { String(format: "%08x", UInt32(truncatingIfNeeded: c)) }

    /// Size and CRC-32 of a file, streamed (the file is not held in memory); nil if unreadable.
    static func crc32(file path: String) -> (bytes: Int, crc: String)? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var c: uLong = 0
        var total = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 { return nil }
            if n == 0 { break }
            c = update(c, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += n
        }
        return (total, hex(c))
    }
}
