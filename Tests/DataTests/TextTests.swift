import Foundation
import Testing

@testable import Data

/// Character-level text: the vocabulary, the split and the windows exactly as the issue defines them.
@Suite struct TextTests {
    @Test func vocabularyIsTheSortedDistinctScalars() throws {
        let corpus = try TextCorpus(utf8: Array("héllo\nwörld\n".utf8), source: "t")
        #expect(String(String.UnicodeScalarView(corpus.vocabulary)) == "\ndhlorwéö")
        #expect(corpus.tokens.count == 12)  // scalars, not bytes
        #expect(corpus.tokens[1] == 7)  // é
        #expect(corpus.encode("low").tokens == [3, 4, 6] && corpus.encode("lox").unknown == "x")
    }

    @Test func windowsFollowTheDefinition() throws {
        // 20 scalars "abcdefghijklmnopqrst": train [0, 16), test [16, 20) with test_fraction 0.2.
        let corpus = try TextCorpus(utf8: Array("abcdefghijklmnopqrst".utf8), source: "t")
        let train = try corpus.windows(test: false, context: 4, stride: 3, testFraction: 0.2)
        // A window starting at s needs tokens s...s+4 inside [0, 16): starts 0, 3, 6, 9 (12 would need 16).
        #expect(train.count == 4 && train.sampleShape == [4] && train.labelsPerSample == 4)
        guard case .floats(let x) = train.features, case .tokens(let y, let classes, 4) = train.targets else {
            Issue.record("unexpected storage")
            return
        }
        #expect(classes == 20)
        #expect(Array(x[4..<8]) == [3, 4, 5, 6] && Array(y[4..<8]) == [4, 5, 6, 7])  // "defg" -> "efgh"
        #expect(x.last == 12 && y.last == 13)
        let test = try corpus.windows(test: true, context: 3, stride: 3, testFraction: 0.2)
        #expect(test.count == 1)  // tokens 16...19
        #expect(throws: DataError.self) { try corpus.windows(test: true, context: 4, stride: 1, testFraction: 0.2) }
    }

    @Test func badTextIsNamed() throws {
        let dir = temporaryFolder("text")
        _ = FileManager.default.createFile(atPath: dir + "/bad.txt", contents: Data([0x61, 0x62, 0xFF, 0x63]))
        #expect(throws: DataError.self) { try TextCorpus.read(dir + "/bad.txt") }
        do {
            _ = try TextCorpus.read(dir + "/bad.txt")
        } catch let e as DataError {
            #expect(e.message.contains("not UTF-8") && e.message.contains("byte 2"))
        }
        #expect(throws: DataError.self) { try TextCorpus.read(dir + "/missing.txt") }
        let short = try TextCorpus(utf8: Array("abc".utf8), source: "short.txt")
        #expect(throws: DataError.self) { try short.windows(test: false, context: 8, stride: 8, testFraction: 0.1) }
    }
}
