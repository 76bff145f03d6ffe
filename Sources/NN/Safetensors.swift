import Foundation

/// A problem with a safetensors file: names the file and, where there is one, the tensor.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public let file: String
    /// The tensor involved, if one.
    public let tensor: String?
    /// What is wrong.
    public let message: String
    /// An error about `file` (and `tensor`).
    public init(file: String, tensor: String?, message: String) {
        self.file = file
        self.tensor = tensor
        self.message = message
    }
    /// The message as one line.
    public var description: String {
        "\(file): " + (tensor.map { "tensor '\($0.count > 80 ? $0.prefix(80) + "..." : $0)': " } ?? "") + message
    }
}

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length,
/// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
/// then the raw little-endian data. Tandem writes F32 (I64 for counters), reads F32, F64, F16,
/// BF16 and I64, and validates strictly.
public enum Safetensors {
    /// Tensors in file order (by data offset) and the metadata map.
    public struct Contents {
        /// The tensors in file order.
        public var tensors: NamedTensors
        /// The header's `__metadata__`.
        public var metadata: [String: String]
        /// The tensor with this name.
        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    /// Largest header accepted (the reference implementation's limit): guards against a bad length.
    public static let maxHeaderBytes = 100_000_000

    /// The file's bytes: header entries and data in the order given; header padded with spaces to
    /// a multiple of 8 bytes so the data is aligned. Tensors named in `int64` (counters) are
    /// written as I64, the others as F32.
    public static func encode(
        _ tensors: NamedTensors, metadata: [String: String] = [:], int64: Set<String> = []
    ) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, t) in tensors {
            let dtype: DType = int64.contains(name) ? .i64 : .f32
            let end = offset + t.count * dtype.size
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for (name, t) in tensors {
            if int64.contains(name) {
                for i in 0..<t.count {
                    // A counter loaded from a hostile F32 file may be anything: clamp, never trap.
                    let v = t.data[i].isFinite ? Swift.min(Swift.max(t.data[i], -9e18), 9e18).rounded() : 0
                    withUnsafeBytes(of: Int64(v).littleEndian) { out.append(contentsOf: $0) }
                }
            } else {
                // Float32 on x86-64 and arm64 is already little-endian.
                out.append(contentsOf: UnsafeRawBufferPointer(start: t.data, count: t.count * 4))
            }
        }
        return out
    }

    /// Parses and validates a file's bytes; `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> Contents {
        func fail(_ message: String, _ tensor: String? = nil) -> SafetensorsError {
            SafetensorsError(file: file, tensor: tensor, message: message)
        }
        guard bytes.count >= 8 else {
            throw fail("too short for a safetensors file (\(bytes.count) bytes; the header length alone takes 8)")
        }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(min(maxHeaderBytes, bytes.count - 8)) else {
            throw fail(
                "header length \(headerLength) exceeds the file (\(bytes.count) bytes) or the \(maxHeaderBytes)-byte "
                    + "limit"
            )
        }
        let dataStart = 8 + Int(headerLength)
        let header: SafetensorsHeader
        do {
            header = try bytes.withUnsafeBufferPointer { all throws(SafetensorsHeader.HeaderError) in
                try SafetensorsHeader.parse(UnsafeBufferPointer(rebasing: all[8..<dataStart]))
            }
        } catch { throw fail(error.message, error.tensor) }
        let entries = try layout(header.entries, dataBytes: bytes.count - dataStart, fail: fail)
        var tensors: NamedTensors = []
        for e in entries {
            let t = Tensor(zeros: e.shape)
            let dtype = DType(rawValue: e.dtype) ?? .f32  // layout checked it
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                dtype.convert(base + dataStart + e.begin, count: t.count, into: t.data)
            }
            tensors.append((e.name, t))
        }
        return Contents(tensors: tensors, metadata: header.metadata)
    }

    /// The entries in data order, after checking each against the data (dtype, bounds, a size
    /// that fits, overflow-checked since extents come from the file) and the whole against
    /// overlaps, gaps and trailing bytes.
    static func layout(
        _ header: [SafetensorsHeader.Entry], dataBytes: Int, fail: (String, String?) -> SafetensorsError
    ) throws -> [SafetensorsHeader.Entry] {
        for e in header {
            guard let dtype = DType(rawValue: e.dtype) else {
                throw fail(
                    "dtype \(e.dtype.prefix(20)) is not supported (Tandem reads F32, F64, F16, BF16 and I64)", e.name)
            }
            guard e.begin <= e.end, e.end <= dataBytes else {
                throw fail(
                    "data_offsets [\(e.begin), \(e.end)] outside the \(dataBytes) data bytes (file truncated?)", e.name)
            }
            var elements = 1
            var overflow = false
            for d in e.shape where !overflow {
                (elements, overflow) = elements.multipliedReportingOverflow(by: d)
                overflow = overflow || elements > dataBytes  // beyond the data is wrong anyway
            }
            guard !overflow else {
                throw fail(
                    "shape \(e.shape) has more elements than the file's \(dataBytes) data bytes can hold", e.name)
            }
            guard elements * dtype.size == e.end - e.begin else {
                throw fail(
                    "shape \(e.shape) needs \(elements * dtype.size) bytes but data_offsets span \(e.end - e.begin)",
                    e.name)
            }
        }
        let entries = header.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for e in entries {
            guard e.begin >= covered || e.begin == e.end else {
                throw fail("data_offsets [\(e.begin), \(e.end)] overlap the previous tensor", e.name)
            }
            guard e.begin == covered || e.begin == e.end else {
                throw fail("gap in the data before offset \(e.begin)", e.name)
            }
            covered = max(covered, e.end)
        }
        guard covered == dataBytes else {
            throw fail("\(dataBytes - covered) trailing data bytes belong to no tensor", nil)
        }
        return entries
    }

    /// Reads and validates a file.
    public static func read(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafetensorsError(file: path, tensor: nil, message: "cannot be read (missing or not a file)")
        }
        return try decode([UInt8](data), file: path)
    }

    /// Writes a file (not atomically: checkpoint writers put it in a temporary folder first).
    public static func write(
        _ tensors: NamedTensors, metadata: [String: String] = [:], int64: Set<String> = [],
        to path: String
    ) throws {
        let bytes = encode(tensors, metadata: metadata, int64: int64)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw SafetensorsError(file: path, tensor: nil, message: "cannot be written")
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
