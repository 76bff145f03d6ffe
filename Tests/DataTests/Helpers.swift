import Foundation
import Data

/// A fresh temporary folder for one test.
func temporaryFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }

/// A tiny MNIST-style folder: n images h x w with labels i % 10.
func writeMNISTFolder(_ dir: String, n: Int, h: Int = 4, w: Int = 3, gzip: Bool, labels: [UInt8]? = nil) throws {
    for stem in ["train", "t10k"] {
        let suffix = gzip ? ".gz" : ""
        try IDX.write(shape: [n, h, w], bytes: (0..<n * h * w).map { UInt8($0 % 251) },
                      to: "\(dir)/\(stem)-images-idx3-ubyte\(suffix)", gzip: gzip)
        try IDX.write(shape: [n], bytes: labels ?? (0..<n).map { UInt8($0 % 10) },
                      to: "\(dir)/\(stem)-labels-idx1-ubyte\(suffix)", gzip: gzip)
    }
}
