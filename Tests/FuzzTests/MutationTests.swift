import Foundation
import FuzzTargets
import Testing
import Trainer

/// Bounded mutation fuzzing in the suite: thousands of inputs per reader from valid seeds, with a
/// fixed seed (a failure names the input index to replay). A crash or inconsistency stops the
/// process; each reader must also finish within its time limit and grow peak memory by less than
/// `memoryBound`. The coverage-guided runs (libFuzzer) are in docs/RELIABILITY.md.
@Suite(.serialized) struct MutationFuzzTests {
    static let memoryBound = 512 << 20

    @Test(.timeLimit(.minutes(1)), arguments: FuzzTargets.Reader.allCases)
    func readerSurvivesMutations(_ reader: FuzzTargets.Reader) throws {
        let seeds = FuzzTargets.seeds(reader)
        for s in seeds { #expect(FuzzTargets.run(reader, s), "\(reader): seed input refused") }
        let inputs = ProcessInfo.processInfo.environment["TANDEM_FUZZ_INPUTS"].flatMap(Int.init) ?? 3000
        var mutator = Mutator(seed: 0x7A4D_E300 &+ UInt64(reader.rawValue.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        let before = peakResidentBytes()
        var accepted = 0
        var corpus = seeds
        for i in 0..<inputs {
            let input = mutator.mutate(corpus[i % corpus.count])
            if FuzzTargets.run(reader, input) {
                accepted += 1
                if corpus.count < 64 { corpus.append(input) }  // grow from what still parses
            }
        }
        let grown = peakResidentBytes() - before
        #expect(grown < Self.memoryBound, "\(reader): peak memory grew by \(grown >> 20) MB over \(inputs) inputs")
        // Both outcomes must occur, or the mutations are not reaching the reader's logic.
        #expect(accepted > 0 && accepted < inputs, "\(reader): \(accepted) of \(inputs) mutated inputs accepted")
    }
}

/// getrusage's peak resident set size, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// Inputs the coverage-guided fuzzer found (Tests/Fixtures/fuzz-regressions/<reader>/): each must
/// now be refused with an error, not crash the process.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/fuzz-regressions").standardizedFileURL.path

    @Test(arguments: FuzzTargets.Reader.allCases)
    func findingsAreRefused(_ reader: FuzzTargets.Reader) throws {
        let dir = Self.root + "/" + reader.rawValue
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for f in files.sorted() {
            let bytes = try #require(FileManager.default.contents(atPath: dir + "/" + f))
            #expect(!FuzzTargets.run(reader, [UInt8](bytes)), "\(reader.rawValue)/\(f) was accepted")
        }
    }

    /// The YAML findings through the config loader itself: one clear error naming the problem.
    @Test func yamlKeysThatAreNotNamesAreConfigErrors() throws {
        let text = try String(contentsOfFile: Self.root + "/yaml/mapping-as-key.yaml", encoding: .utf8)
        #expect { _ = try ConfigLoading.parse(text, file: "f.yaml") } throws: {
            "\($0)".contains("f.yaml: the config uses a list or mapping as a key (line 8); keys are setting names")
        }
    }
}
