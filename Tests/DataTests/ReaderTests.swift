import Foundation
import Testing

@testable import Data

@Suite struct ReaderTests {
    @Test(arguments: [true, false])
    func idxRoundTrip(gzip: Bool) throws {
        let dir = temporaryFolder("idx")
        let bytes = (0..<60).map { UInt8($0 * 3 % 256) }
        try IDX.write(shape: [5, 3, 4], bytes: bytes, to: "\(dir)/x", gzip: gzip)
        let raw = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/x"))
        #expect((raw.prefix(2) == Data([0x1F, 0x8B])) == gzip)  // gzip magic only when compressed
        let back = try IDX.read("\(dir)/x")
        #expect(back.shape == [5, 3, 4] && back.bytes == bytes)
    }

    @Test(arguments: [true, false])
    func mnistFolderLoads(gzip: Bool) throws {
        let dir = temporaryFolder("mnist")
        try writeMNISTFolder(dir, n: 20, gzip: gzip)
        let d = try MNISTFamily.load(directory: dir, train: true)
        #expect(d.count == 20 && d.sampleShape == [1, 4, 3] && d.classCount == 10)
    }

    func expectDataError(
        _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        #expect(sourceLocation: sourceLocation) { try body() } throws: { e in
            (e as? DataError)?.message.contains(fragment) ?? false
        }
    }

    @Test func badIDXFiles() throws {
        let dir = temporaryFolder("badidx")
        write("PK\u{3}\u{4}zipzipzip", to: "\(dir)/zip")
        expectDataError("bad magic") { _ = try IDX.read("\(dir)/zip") }
        try IDX.write(shape: [10, 2, 2], bytes: [UInt8](repeating: 1, count: 40), to: "\(dir)/full", gzip: false)
        let full = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/full"))
        try full.prefix(full.count - 7).write(to: URL(fileURLWithPath: "\(dir)/short"))
        expectDataError("truncated") { _ = try IDX.read("\(dir)/short") }
        try (full + Data([1, 2])).write(to: URL(fileURLWithPath: "\(dir)/long"))
        expectDataError("longer than its header") { _ = try IDX.read("\(dir)/long") }
        expectDataError("cannot open") { _ = try IDX.read("\(dir)/absent") }
    }

    /// Extents from the file never size an allocation unchecked: a product that overflows is an
    /// error, and a 60-byte gzip file declaring 2 GiB fails as truncated without allocating it.
    @Test func hostileIDXExtents() throws {
        let dir = temporaryFolder("hostileidx")
        try Data([0, 0, 8, 2] + [UInt8](repeating: 0xFF, count: 8)).write(to: URL(fileURLWithPath: "\(dir)/overflow"))
        expectDataError("declare more than 2147483648 bytes") { _ = try IDX.read("\(dir)/overflow") }
        try Data([0, 0, 8, 4, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]).write(
            to: URL(fileURLWithPath: "\(dir)/huge"))
        expectDataError("declare more than") { _ = try IDX.read("\(dir)/huge") }  // 2^32 bytes
        // [1, 32768, 65536] = exactly 2 GiB declared, 16 bytes present, gzip-compressed.
        try IDX.write(shape: [16], bytes: [UInt8](repeating: 7, count: 16), to: "\(dir)/seed.gz", gzip: true)
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0x80, 0, 0, 1, 0, 0]
        try writeGzip(header + [UInt8](repeating: 0, count: 16), to: "\(dir)/big.gz")
        let before = residentBytes()
        expectDataError("truncated: data of shape [1, 32768, 65536] needs 2147483648 bytes, file ends after 16") {
            _ = try IDX.read("\(dir)/big.gz")
        }
        #expect(
            residentBytes() - before < 256 << 20,
            "reading a tiny file grew the process by \(residentBytes() - before) bytes")
    }

    @Test func badMNISTFolders() throws {
        let missing = temporaryFolder("empty")
        #expect(
            performing: { _ = try MNISTFamily.load(directory: missing, train: true) },
            throws: { e in
                "\(e)" == "\(missing)/train-images-idx3-ubyte[.gz]: no such file"
            })
        // The default folder's hint names Debian's package (an empty folder stands in for it, so
        // this holds whether or not the package is installed here).
        #expect(
            performing: { _ = try MNISTFamily.locate(missing, "train-images-idx3-ubyte", defaultFolder: missing) },
            throws: { e in
                "\(e)"
                    == "\(missing)/train-images-idx3-ubyte[.gz]: no such file; install it with `apt-get install dataset-fashion-mnist`"
            })
        let dir = temporaryFolder("mismatch")
        try writeMNISTFolder(dir, n: 6, gzip: true)
        try IDX.write(shape: [5], bytes: [0, 1, 2, 3, 4], to: "\(dir)/train-labels-idx1-ubyte.gz", gzip: true)
        expectDataError("holds 6 images but") { _ = try MNISTFamily.load(directory: dir, train: true) }
        let dir2 = temporaryFolder("badlabel")
        try writeMNISTFolder(dir2, n: 4, gzip: false, labels: [0, 1, 12, 3])
        expectDataError("label 12 of sample 2 is outside 0..<10") {
            _ = try MNISTFamily.load(directory: dir2, train: true)
        }
    }

    @Test func csvClassificationRegressionAndMissingValues() throws {
        let dir = temporaryFolder("csv")
        write("a,b,label\n1,2,0\n3,,1\n5,6,1\n7,8,0\n9,10,1\n", to: "\(dir)/t.csv")
        expectDataError("t.csv:3: missing value in column 'b'") {
            _ = try CSVTable.load(
                path: "\(dir)/t.csv", target: "label", task: .classification, missing: .error,
                testPath: "\(dir)/t.csv", seed: 1)
        }
        let dropped = try CSVTable.load(
            path: "\(dir)/t.csv", target: "label", task: .classification, missing: .drop,
            testPath: "\(dir)/t.csv", seed: 1)
        #expect(dropped.train.count == 4 && dropped.train.classCount == 2)
        let mean = try CSVTable.load(
            path: "\(dir)/t.csv", target: "label", task: .regression, missing: .mean,
            testPath: "\(dir)/t.csv", seed: 1)
        let f = try #require(floats(mean.train.features))
        #expect(f[3] == 6.5)  // mean of 2, 6, 8, 10
        let median = try CSVTable.load(
            path: "\(dir)/t.csv", target: "label", task: .regression, missing: .median,
            testPath: "\(dir)/t.csv", seed: 1)
        let g = try #require(floats(median.train.features))
        #expect(g[3] == 7)  // median of 2, 6, 8, 10
        write("a,b,label\n1,x,0\n", to: "\(dir)/bad.csv")
        expectDataError("bad.csv:2: column 'b' holds 'x', not a number") {
            _ = try CSVTable.load(
                path: "\(dir)/bad.csv", target: "label", task: .classification, missing: .error, seed: 1)
        }
        write("a,b,label\n1,2\n", to: "\(dir)/short.csv")
        expectDataError("short.csv:2: 2 fields, the header has 3") {
            _ = try CSVTable.load(
                path: "\(dir)/short.csv", target: "label", task: .classification, missing: .error, seed: 1)
        }
        expectDataError("no column named 'y'") {
            _ = try CSVTable.load(path: "\(dir)/t.csv", target: "y", task: .classification, missing: .drop, seed: 1)
        }
        write("a,b,label\n", to: "\(dir)/empty.csv")
        expectDataError("no data rows") {
            _ = try CSVTable.load(
                path: "\(dir)/empty.csv", target: "label", task: .classification, missing: .error, seed: 1)
        }
    }

    @Test func csvFillsComeFromTheTrainingSplitOnly() throws {
        let dir = temporaryFolder("csvsplit")
        write("x,y\n1,0\n3,0\n100,0\n,0\n", to: "\(dir)/train.csv")
        write("x,y\n,1\n", to: "\(dir)/test.csv")
        let d = try CSVTable.load(
            path: "\(dir)/train.csv", target: "y", task: .regression, missing: .mean,
            testPath: "\(dir)/test.csv", seed: 1)
        let f = try #require(floats(d.test.features))
        #expect(f.count == 1 && abs(f[0] - 104.0 / 3) < 1e-4)
    }

    @Test func csvQuotedFieldsAndStringLabels() throws {
        let dir = temporaryFolder("csvq")
        write("\"a\",kind\n1,\"cat\"\n2,dog\n3,\"cat\"\n4,dog\n5,cat\n", to: "\(dir)/q.csv")
        let d = try CSVTable.load(
            path: "\(dir)/q.csv", target: "kind", task: .classification, missing: .error,
            testFraction: 0.4, seed: 3)
        #expect(d.train.count == 3 && d.test.count == 2 && d.train.classCount == 2)
    }

    @Test func syntheticSetsAreSeededAndShaped() throws {
        let a = try Synthetic.linearRegression(count: 100, seed: 1)
        let b = try Synthetic.linearRegression(count: 100, seed: 1)
        let xa = try #require(floats(a.features))
        let xb = try #require(floats(b.features))
        #expect(xa.count == 100 && xa == xb)
        let other = try #require(floats(try Synthetic.linearRegression(count: 100, seed: 2).features))
        #expect(other != xa)
        let s = try Synthetic.sineSequences(count: 10, steps: 8, seed: 1)
        #expect(s.sampleShape == [8, 1] && s.count == 10)
    }

    @Test func emptyDatasetIsAnError() {
        expectDataError("empty") {
            _ = try Dataset(features: .floats([]), targets: .values([], width: 1), sampleShape: [3], source: "x")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: MNISTFamily.defaultPath + "/train-images-idx3-ubyte.gz")))
    func realFashionMNIST() throws {
        let train = try MNISTFamily.load(train: true)
        let test = try MNISTFamily.load(train: false)
        #expect(train.count == 60_000 && test.count == 10_000 && train.sampleShape == [1, 28, 28])
        guard case .classes(let labels, _) = train.targets else {
            Issue.record("class labels expected")
            return
        }
        var histogram = [Int](repeating: 0, count: 10)
        for l in labels { histogram[Int(l)] += 1 }
        #expect(histogram == [Int](repeating: 6_000, count: 10))
        let m = train.featureMoments()
        #expect(abs(m.mean - 0.2860) < 0.001 && abs(m.std - 0.3530) < 0.001)
        guard case .bytes(let b) = train.features else {
            Issue.record("byte images expected")
            return
        }
        #expect(b.count == 60_000 * 784)  // one byte a pixel: 47 MB
    }
}

/// The float features of a dataset, or nil when it holds bytes.
func floats(_ f: Dataset.Features) -> [Float]? {
    if case .floats(let x) = f { return x }
    return nil
}
