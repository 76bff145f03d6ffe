import CZlib
import Foundation

/// CRC-32 (zlib's) of a file's bytes: detects torn writes and flipped bytes in checkpoints.
enum Checksum {
    static func crc32(of bytes: [UInt8]) -> String {
        let c = bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) }
        return String(format: "%08x", UInt32(c))
    }

    static func crc32(file path: String) -> (bytes: Int, crc: String)? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (data.count, crc32(of: [UInt8](data)))
    }
}
