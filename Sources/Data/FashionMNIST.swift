import Foundation

/// The MNIST family of datasets in IDX files: Fashion-MNIST from Debian's
/// `dataset-fashion-mnist` by default, or any folder holding the same four files.
public enum MNISTFamily {
    /// Where Debian's package puts Fashion-MNIST.
    public static let defaultPath = "/usr/share/datasets/fashion-mnist"

    /// Loads the train or test split from `directory` (files `train-images-idx3-ubyte[.gz]` etc.).
    public static func load(directory: String = defaultPath, train: Bool) throws -> Dataset {
        let stem = train ? "train" : "t10k"
        let images = try locate(directory, "\(stem)-images-idx3-ubyte")
        let labels = try locate(directory, "\(stem)-labels-idx1-ubyte")
        let x = try IDX.read(images)
        let y = try IDX.read(labels)
        guard x.shape.count == 3 else {
            throw DataError("\(images): images must be an IDX file of rank 3, got shape \(x.shape)")
        }
        guard y.shape.count == 1 else {
            throw DataError("\(labels): labels must be an IDX file of rank 1, got shape \(y.shape)")
        }
        guard x.shape[0] == y.shape[0] else {
            throw DataError("\(images) holds \(x.shape[0]) images but \(labels) holds \(y.shape[0]) labels")
        }
        if let bad = y.bytes.firstIndex(where: { $0 > 9 }) {
            throw DataError("\(labels): label \(y.bytes[bad]) of sample \(bad) is outside 0..<10")
        }
        return try Dataset(
            features: .bytes(x.bytes), targets: .classes(y.bytes.map(Int32.init), classes: 10),
            sampleShape: [1, x.shape[1], x.shape[2]], source: images)
    }

    /// The file `name` (gzip first) in `directory`; the error's hint depends on whether the
    /// folder is Debian's default (`defaultFolder`, a parameter so tests can stand in for it).
    static func locate(_ directory: String, _ name: String, defaultFolder: String = defaultPath) throws -> String {
        for candidate in ["\(directory)/\(name).gz", "\(directory)/\(name)"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw MissingDatasetFile(path: "\(directory)/\(name)[.gz]", isDebianDefault: directory == defaultFolder)
    }
}

/// An IDX file of the MNIST family is not where it was looked for.
public struct MissingDatasetFile: Error, CustomStringConvertible {
    /// The file that was not found.
    public let path: String
    /// The folder was Debian's default, so installing the package would provide it.
    public let isDebianDefault: Bool
    /// The message as one line.
    public var description: String {
        "\(path): no such file" + (isDebianDefault ? "; install it with `apt-get install dataset-fashion-mnist`" : "")
    }
}
