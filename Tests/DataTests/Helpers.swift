import CZlib
import Data
import Foundation

/// A fresh temporary folder for one test.
func temporaryFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "tandem-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    ).path
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        fatalError("cannot create the test folder \(path): \(error)")
    }
    return path
}

func write(_ text: String, to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

/// A tiny MNIST-style folder: n images h x w with labels i % 10.
func writeMNISTFolder(_ dir: String, n: Int, h: Int = 4, w: Int = 3, gzip: Bool, labels: [UInt8]? = nil) throws {
    for stem in ["train", "t10k"] {
        let suffix = gzip ? ".gz" : ""
        try IDX.write(
            shape: [n, h, w], bytes: (0..<n * h * w).map { UInt8($0 % 251) },
            to: "\(dir)/\(stem)-images-idx3-ubyte\(suffix)", gzip: gzip)
        try IDX.write(
            shape: [n], bytes: labels ?? (0..<n).map { UInt8($0 % 10) },
            to: "\(dir)/\(stem)-labels-idx1-ubyte\(suffix)", gzip: gzip)
    }
}

/// Raw bytes gzip-compressed into `path` (for IDX files with hand-made headers).
func writeGzip(_ bytes: [UInt8], to path: String) throws {
    guard let f = gzopen(path, "wb") else { throw DataError("\(path): cannot create") }
    _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
    gzclose(f)
}

/// The process's resident set size now (Linux /proc/self/statm), in bytes.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}
