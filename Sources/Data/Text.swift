import Foundation

/// A UTF-8 text file as one stream of character tokens: the vocabulary is the sorted distinct
/// Unicode scalars of the whole file (newline included), a token is a scalar's position in it.
public struct TextCorpus: Sendable {
    /// The vocabulary, in order (token id = index).
    public let vocabulary: [Unicode.Scalar]
    /// The file as token ids.
    public let tokens: [Int32]
    /// The file, for messages.
    public let source: String

    /// Largest file read: 256 MiB (enwik8 is 100 MB). Tokenizing holds about 10 bytes per
    /// character, so this bounds the reader near 2.5 GB.
    public static let maxBytes = 1 << 28

    /// A corpus from a vocabulary and the token ids of a text.
    public init(vocabulary: [Unicode.Scalar], tokens: [Int32], source: String) {
        self.vocabulary = vocabulary
        self.tokens = tokens
        self.source = source
    }

    /// Reads and tokenizes a file; non-UTF-8 bytes are an error naming their offset.
    public static func read(_ path: String) throws -> TextCorpus {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError("\(path): cannot be opened (no such file, or not readable)")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
        guard size <= maxBytes else {
            throw DataError("\(path): \(size) bytes is more than the text reader's limit of \(maxBytes)")
        }
        try? handle.seek(toOffset: 0)
        let data = (try? handle.readToEnd()) ?? Data()
        return try TextCorpus(utf8: [UInt8](data), source: path)
    }

    /// Tokenizes UTF-8 bytes.
    public init(utf8 bytes: [UInt8], source: String) throws {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s):
                scalars.append(s)
                offset += UTF8.width(s)
            case .emptyInput: break loop
            case .error:
                throw DataError("\(source): not UTF-8 text (invalid byte sequence near byte \(offset))")
            }
        }
        let vocabulary = Array(Set(scalars)).sorted { $0.value < $1.value }
        var index: [Unicode.Scalar: Int32] = [:]
        for (i, s) in vocabulary.enumerated() { index[s] = Int32(i) }
        self.init(vocabulary: vocabulary, tokens: scalars.map { index[$0] ?? 0 }, source: source)
    }

    /// Token ids of `text` under this vocabulary; nil names the first character it lacks.
    public func encode(_ text: String) -> (tokens: [Int32], unknown: Unicode.Scalar?) {
        var index: [Unicode.Scalar: Int32] = [:]
        for (i, s) in vocabulary.enumerated() { index[s] = Int32(i) }
        var out: [Int32] = []
        for s in text.unicodeScalars {
            guard let id = index[s] else { return (out, s) }
            out.append(id)
        }
        return (out, nil)
    }

    /// The samples of one split: the training split is tokens [0, floor((1 - testFraction) L)),
    /// the test split the rest; sample k of a split starting at s covers tokens
    /// [s + k stride, s + k stride + context] (inputs the first `context`, targets the same
    /// shifted by one); a last window that does not fit is dropped.
    public func windows(test: Bool, context: Int, stride: Int, testFraction: Double) throws -> Dataset {
        let cut = Int((1 - testFraction) * Double(tokens.count))
        let range = test ? cut..<tokens.count : 0..<cut
        let span = range.count - context  // window starts s + k stride with k stride < span
        let name = test ? "test" : "training"
        guard span > 0 else {
            throw DataError(
                "\(source): the \(name) split has \(range.count) characters, too few for one sample of context "
                    + "\(context) (needs \(context + 1)); use a longer file, a shorter data.context or another "
                    + "data.test_fraction")
        }
        let count = (span - 1) / stride + 1
        guard count.multipliedReportingOverflow(by: context).partialValue <= 1 << 28 else {
            throw DataError(
                "\(source): \(count) windows of \(context) would hold more than 2^28 tokens; use a larger "
                    + "data.stride")
        }
        var features = [Float](repeating: 0, count: count * context)
        var targets = [Int32](repeating: 0, count: count * context)
        tokens.withUnsafeBufferPointer { t in
            for k in 0..<count {
                let start = range.lowerBound + k * stride
                for j in 0..<context {
                    features[k * context + j] = Float(t[start + j])
                    targets[k * context + j] = t[start + j + 1]
                }
            }
        }
        return try Dataset(
            features: .floats(features), targets: .tokens(targets, classes: vocabulary.count, length: context),
            sampleShape: [context], source: "\(source) (\(name) split)")
    }
}
