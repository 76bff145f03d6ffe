import CZlib

/// NumPy's `.npz` archives: a zip file of `.npy` members (`np.savez` stores them, and then their
/// arrays stay in the file like a `.npy`'s; `np.savez_compressed` deflates them, and then a
/// member is inflated into memory when it is opened). Zip64 archives (over 2 GiB) are read too.
public struct NPZ {
    /// One member: where its data is and how it is stored.
    struct Member {
        var method: Int
        var flags: Int
        var compressedSize: Int
        var size: Int
        var crc: UInt32
        var localHeader: Int
    }

    /// The archive's bytes.
    public let file: FileBytes
    let members: [String: Member]

    /// Reads the archive's central directory; every offset and size is checked against the file.
    public init(path: String) throws {
        file = try FileBytes(path: path)
        members = try NPZ.directory(file)
    }

    /// The array names (member names without `.npy`), sorted.
    public var names: [String] { members.keys.sorted() }

    /// The array stored as `name` (or `name.npy`).
    public func array(_ name: String) throws -> NumericArray {
        let label = "\(file.path)[\(name)]"
        guard let m = members[name + ".npy"] ?? members[name] else {
            throw DataError("\(file.path): no array '\(name)' (the archive has \(names.joined(separator: ", ")))")
        }
        guard m.flags & 1 == 0 else { throw DataError("\(label): encrypted members are not supported") }
        let local = try file.bytes(at: m.localHeader, length: 30, "a member's local header")
        guard le(local, 0, 4) == 0x0403_4B50 else { throw DataError("\(label): damaged archive (bad local header)") }
        let start = m.localHeader + 30 + le(local, 26, 2) + le(local, 28, 2)
        guard start <= file.count, m.compressedSize <= file.count - start else {
            throw DataError("\(label): truncated archive (member data beyond the end of the file)")
        }
        switch m.method {
        case 0:
            guard m.size == m.compressedSize else { throw DataError("\(label): stored member sizes differ") }
            let bytes = FileSlice(file: file, start: start, count: m.size)
            return try bytes.array(name: label)
        case 8:
            let inflated = FileBytes(bytes: try inflate(m, at: start, label: label), path: label)
            return try NumericArray(file: inflated, header: try NPY.header(in: inflated, name: label), name: label)
        default:
            throw DataError("\(label): compression method \(m.method) is not supported (stored or deflate)")
        }
    }

    /// A stored member: a .npy inside the archive's bytes.
    struct FileSlice {
        let file: FileBytes
        let start: Int
        let count: Int
        func array(name: String) throws -> NumericArray {
            let h = try NPY.header(in: file, at: start, name: name)
            guard h.dataOffset - start <= count,
                h.elementCount.multipliedReportingOverflow(by: h.dtype.size).partialValue <= count
                    - (h.dataOffset - start)
            else { throw DataError("\(name): the array is larger than its archive member") }
            return try NumericArray(file: file, header: h, name: name)
        }
    }

    /// Inflates a deflated member; memory grows with the data that really arrives, and the result
    /// must match the declared size and CRC-32.
    func inflate(_ m: Member, at start: Int, label: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError("\(label): cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: min(m.size, 1 << 24))
        var produced = 0
        var consumed = 0
        var status = Z_OK
        while status != Z_STREAM_END {
            if produced == out.count {
                guard out.count < m.size else { throw DataError("\(label): inflates to more than its declared size") }
                out += [UInt8](repeating: 0, count: min(out.count, m.size - out.count))
            }
            let chunk = min(m.compressedSize - consumed, 1 << 24)
            status = file.withBytes(at: start + consumed, length: chunk) { src in
                out.withUnsafeMutableBytes { dst in
                    stream.next_in = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = uInt(chunk)
                    stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.avail_out = uInt(min(dst.count - produced, 1 << 30))
                    let before = (stream.avail_in, stream.avail_out)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed += Int(before.0 - stream.avail_in)
                    produced += Int(before.1 - stream.avail_out)
                    return s
                }
            }
            guard status == Z_OK || status == Z_STREAM_END else {
                throw DataError("\(label): damaged compressed data (zlib status \(status))")
            }
            if status == Z_OK && consumed == m.compressedSize && produced < out.count {
                throw DataError("\(label): compressed data ends early")
            }
        }
        guard produced == m.size else {
            throw DataError("\(label): inflates to \(produced) bytes, the archive says \(m.size)")
        }
        let crc = out.withUnsafeBytes {
            UInt32(crc32(0, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(produced)))
        }
        guard crc == m.crc else { throw DataError("\(label): CRC-32 mismatch: the member is damaged") }
        return out
    }

    /// The central directory, found from the end-of-central-directory record (and its zip64 form).
    static func directory(_ file: FileBytes) throws -> [String: Member] {
        let path = file.path
        let tailLength = min(file.count, 22 + 65_535)
        let tail = try file.bytes(at: file.count - tailLength, length: tailLength, "the zip directory")
        guard tailLength >= 22,
            let e = stride(from: tailLength - 22, through: 0, by: -1).first(where: { le(tail, $0, 4) == 0x0605_4B50 })
        else { throw DataError("\(path): not a .npz (zip) archive (no end-of-directory record)") }
        var entries = le(tail, e + 10, 2)
        var size = le(tail, e + 12, 4)
        var offset = le(tail, e + 16, 4)
        let eocd = file.count - tailLength + e
        if eocd >= 20, let loc = try? file.bytes(at: eocd - 20, length: 20, "zip64 locator"),
            le(loc, 0, 4) == 0x0706_4B50
        {
            let z = try file.bytes(at: le(loc, 8, 8), length: 56, "the zip64 end-of-directory record")
            guard le(z, 0, 4) == 0x0606_4B50 else { throw DataError("\(path): damaged zip64 directory") }
            entries = le(z, 32, 8)
            size = le(z, 40, 8)
            offset = le(z, 48, 8)
        }
        guard entries <= 1 << 16, size <= 1 << 26 else {
            throw DataError("\(path): zip directory of \(entries) entries in \(size) bytes is beyond any .npz")
        }
        let cd = try file.bytes(at: offset, length: size, "the zip central directory")
        var members: [String: Member] = [:]
        var p = 0
        for _ in 0..<entries {
            guard p + 46 <= cd.count, le(cd, p, 4) == 0x0201_4B50 else {
                throw DataError("\(path): damaged zip central directory")
            }
            let (nameLength, extraLength, commentLength) = (le(cd, p + 28, 2), le(cd, p + 30, 2), le(cd, p + 32, 2))
            guard p + 46 + nameLength + extraLength + commentLength <= cd.count else {
                throw DataError("\(path): damaged zip central directory")
            }
            var m = Member(
                method: le(cd, p + 10, 2), flags: le(cd, p + 8, 2), compressedSize: le(cd, p + 20, 4),
                size: le(cd, p + 24, 4), crc: UInt32(le(cd, p + 16, 4)), localHeader: le(cd, p + 42, 4))
            try zip64(&m, extra: Array(cd[p + 46 + nameLength..<p + 46 + nameLength + extraLength]), path: path)
            members[String(decoding: cd[p + 46..<p + 46 + nameLength], as: UTF8.self)] = m
            p += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    /// Sizes and offsets too large for 32 bits are in the zip64 extra field (id 1), in this order.
    static func zip64(_ m: inout Member, extra: [UInt8], path: String) throws {
        var q = 0
        while q + 4 <= extra.count {
            let (id, length) = (le(extra, q, 2), le(extra, q + 2, 2))
            guard q + 4 + length <= extra.count else { break }
            if id == 1 {
                var r = q + 4
                for field in [\Member.size, \Member.compressedSize, \Member.localHeader]
                where m[keyPath: field] == 0xFFFF_FFFF {
                    guard r + 8 <= q + 4 + length else { throw DataError("\(path): damaged zip64 extra field") }
                    m[keyPath: field] = le(extra, r, 8)
                    r += 8
                }
            }
            q += 4 + length
        }
    }
}

/// A little-endian unsigned field of `n` bytes at `at` (callers bound the index); 8-byte values
/// above 2^62 are clamped so they fail the range checks instead of wrapping negative.
func le(_ b: [UInt8], _ at: Int, _ n: Int) -> Int {
    var v: UInt64 = 0
    for k in (0..<n).reversed() { v = v << 8 | UInt64(b[at + k]) }
    return Int(min(v, 1 << 62))
}
