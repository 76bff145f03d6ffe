import CZlib

/// The IDX format of the MNIST family: magic (0, 0, dtype, rank), big-endian UInt32 extents,
/// then the data. Tandem reads unsigned-byte files (dtype 0x08), gzip-compressed or not.
public enum IDX {
    /// Extents and raw bytes of an unsigned-byte IDX file.
    public struct Contents {
        /// Extents from the header.
        public let shape: [Int]
        /// The data, row-major.
        public let bytes: [UInt8]
    }

    /// Largest data size accepted (2 GiB): the extents come from the file and size an allocation.
    public static let maxBytes = 1 << 31

    /// Reads `path` (gzip or plain; zlib tells them apart). Declared extents are checked against
    /// overflow and `maxBytes`, and the data buffer grows with what the file really holds, so a
    /// tiny file declaring a huge shape fails as truncated without allocating that shape.
    public static func read(_ path: String) throws -> Contents {
        guard let f = gzopen(path, "rb") else {
            throw DataError("\(path): cannot open (missing file or no permission)")
        }
        defer { gzclose(f) }
        /// Reads exactly `n` bytes into a fresh array that grows (doubling, from 16 MiB) only as
        /// data arrives: memory follows the file's real content, not its declared size.
        func read(_ n: Int, _ what: String) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: min(n, 1 << 24))
            var done = 0
            while done < n {
                if done == out.count { out += [UInt8](repeating: 0, count: min(out.count, n - out.count)) }
                let chunk = min(out.count - done, 1 << 30)
                let got = out.withUnsafeMutableBytes { gzread(f, $0.baseAddress! + done, UInt32(chunk)) }
                if got < 0 { throw DataError("\(path): corrupt or unreadable (\(what))") }
                if got == 0 { throw DataError("\(path): truncated: \(what) needs \(n) bytes, file ends after \(done)") }
                done += Int(got)
            }
            return out
        }
        let magic = try read(4, "magic number")
        guard magic[0] == 0, magic[1] == 0 else {
            throw DataError(
                "\(path): not an IDX file (bad magic \(magic.map { String($0, radix: 16) }.joined(separator: " ")))")
        }
        guard magic[2] == 0x08 else {
            throw DataError(
                "\(path): IDX data type 0x\(String(magic[2], radix: 16)) is not supported (Tandem reads unsigned "
                    + "bytes, 0x08)"
            )
        }
        let rank = Int(magic[3])
        guard rank >= 1 && rank <= 4 else { throw DataError("\(path): IDX rank \(rank) is not between 1 and 4") }
        let dims = try read(4 * rank, "dimensions")
        let shape = (0..<rank).map { i in dims[4 * i..<4 * i + 4].reduce(0) { $0 << 8 | Int($1) } }
        var total = 1
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxBytes else {
                throw DataError("\(path): IDX extents \(shape) declare more than \(maxBytes) bytes of data")
            }
            total = product
        }
        let bytes = try read(total, "data of shape \(shape)")
        var extra: UInt8 = 0
        if gzread(f, &extra, 1) > 0 {
            throw DataError("\(path): longer than its header says (\(shape) = \(total) bytes of data)")
        }
        return Contents(shape: shape, bytes: bytes)
    }

    /// Writes an unsigned-byte IDX file, gzip-compressed when `gzip`.
    public static func write(shape: [Int], bytes: [UInt8], to path: String, gzip: Bool) throws {
        precondition(shape.reduce(1, *) == bytes.count, "IDX.write: \(bytes.count) bytes for shape \(shape)")
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for d in shape { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        out += bytes
        guard let f = gzopen(path, gzip ? "wb" : "wbT") else { throw DataError("\(path): cannot create") }
        let written = out.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        guard gzclose(f) == Z_OK, Int(written) == out.count else { throw DataError("\(path): write failed") }
    }
}
