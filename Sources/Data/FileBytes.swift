import Glibc

/// The bytes of a data file without reading them up front: the file is mapped read-only when the
/// address space allows (pages come in as samples are used and the kernel may drop them again),
/// and read range by range with `pread` when it does not (a `ulimit -v` smaller than the file).
/// Either way a rank touches only the pages of the samples it uses. Inflated archive members are
/// held in memory instead.
///
/// Sendable because nothing is written after `init`: the mapping is read-only and `pread` takes
/// its own offset.
public final class FileBytes: @unchecked Sendable {
    private enum Storage {
        case mapped(UnsafeRawPointer)
        case file(Int32)
        case memory([UInt8])
    }
    private let storage: Storage
    /// Size in bytes.
    public let count: Int
    /// The file, for messages.
    public let path: String

    /// Opens `path`; `DataError` when it cannot be opened.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw DataError("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw DataError("\(path): not a regular file")
        }
        self.path = path
        count = Int(st.st_size)
        if count > 0, let p = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED {
            close(fd)
            storage = .mapped(UnsafeRawPointer(p))
        } else {
            storage = .file(fd)  // no address space for it (or empty): read on demand
        }
    }

    /// Bytes already in memory (an inflated archive member).
    public init(bytes: [UInt8], path: String) {
        storage = .memory(bytes)
        count = bytes.count
        self.path = path
    }

    deinit {
        switch storage {
        case .mapped(let p): munmap(UnsafeMutableRawPointer(mutating: p), count)
        case .file(let fd): close(fd)
        case .memory: break
        }
    }

    /// Whether the whole file is mapped (false: read with pread per range).
    public var isMapped: Bool {
        if case .file = storage { return false }
        return true
    }

    /// Calls `body` with `length` bytes from `offset` (callers check the range against `count`).
    /// A read error here means the file changed under a running job: one line, and the process ends.
    public func withBytes<R>(at offset: Int, length: Int, _ body: (UnsafeRawPointer) -> R) -> R {
        precondition(offset >= 0 && length >= 0 && offset + length <= count, "FileBytes: range outside \(path)")
        switch storage {
        case .mapped(let p): return body(p + offset)
        case .memory(let bytes): return bytes.withUnsafeBytes { body($0.baseAddress! + offset) }
        case .file(let fd):
            return withUnsafeTemporaryAllocation(byteCount: max(length, 1), alignment: 16) { buffer in
                var done = 0
                while done < length {
                    let got = pread(fd, buffer.baseAddress! + done, length - done, off_t(offset + done))
                    if got <= 0 {
                        let why = got < 0 ? String(cString: strerror(errno)) : "the file is shorter than it was"
                        let line = "tandem: \(path): read failed during training (\(why))\n"
                        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
                        exit(1)
                    }
                    done += got
                }
                return body(UnsafeRawPointer(buffer.baseAddress!))
            }
        }
    }

    /// `length` bytes from `offset` as an array, or a `DataError` naming `what` when the file ends first.
    public func bytes(at offset: Int, length: Int, _ what: String) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw DataError(
                "\(path): truncated: \(what) needs \(length) bytes at offset \(offset), the file has \(count)")
        }
        return withBytes(at: offset, length: length) { Array(UnsafeRawBufferPointer(start: $0, count: length)) }
    }
}
