import Foundation
import Tandem
import TestSupport
import Testing

/// A small word list: enough text for a few dozen windows of 12 characters.
func wordFile() -> String {
    let dir = tempDir()
    let words = (0..<400).map { (i: Int) -> String in
        let letters = (0..<(3 + i % 5)).map { (j: Int) -> Character in
            let code = UInt8(97 + (i * 7 + j * 3) % 26)
            return Character(Unicode.Scalar(code))
        }
        return String(letters)
    }
    let path = dir + "/words.txt"
    _ = FileManager.default.createFile(atPath: path, contents: Data((words.joined(separator: "\n") + "\n").utf8))
    return path
}

func textConfig(_ path: String, steps: Int, exact: Bool = false, dropout: Float = 0.1) -> TrainingConfig {
    var c = config(steps: steps, exact: exact)
    c.data = DataConfig(.text(.init(path: path, context: 12)))
    c.model = [
        .embedding(dim: 16), .positional,
        .transformer(heads: 2, feedForward: 32, dropout: dropout, causal: true), .layerNorm(eps: 1e-5),
        .linear(out: .vocabulary, bias: true),
    ]
    c.train.batchSize = 16
    return c
}

/// Trains a text config on `ranks` simulated ranks (the trainer loads the data itself); rank 0's
/// final state dict and the model.
func trainText(_ cfg: TrainingConfig, ranks: Int, runDir: String? = nil, resume: String? = nil, stopAt: Int? = nil)
    throws -> (weights: [[Float]], model: Module?, trainer: Trainer?)
{
    let result = Shared<(weights: [[Float]], kept: (Module, Trainer)?)>(([], nil))
    try SimulatedWorld.run(size: ranks, timeout: 120) { comm in
        let t = try Trainer(
            config: cfg, communicator: comm, options: RunOptions(runDirectory: runDir, resume: resume, quiet: true))
        if comm.rank == 0, let stopAt {
            t.onEvent = { e in
                if case .train(let r) = e, r.step == stopAt { StopSignal.request() }
            }
        }
        try t.fit()
        if comm.rank == 0 { result.withLock { $0 = (t.model.stateDict.map(\.tensor.scalars), (t.model, t)) } }
    }
    StopSignal.reset()
    let (weights, kept) = result.current
    return (weights, kept?.0, kept?.1)
}

extension TrainerTests {
    /// Character-level Transformer runs: learning, determinism, resume, generation.
    @Suite struct TextModelTests {
        @Test func transformerLearnsAndExactModeIsBitIdentical() throws {
            let path = wordFile()
            let runs = try [1, 2, 4].map { try trainText(textConfig(path, steps: 12, exact: true), ranks: $0) }
            #expect(runs[0].weights.count == 18 && runs[0].weights == runs[1].weights)
            #expect(runs[1].weights == runs[2].weights)
            let trainer = try #require(runs[0].trainer)
            let test = try trainer.evaluate()
            #expect(test.meanLoss < log(Double(26 + 1)), "test loss \(test.meanLoss) per token")  // below uniform
            #expect(test.accuracy > 0 && test.accuracy < 1)
        }

        @Test func resumeIsBitExact() throws {
            let path = wordFile()
            let straight = try trainText(textConfig(path, steps: 16), ranks: 2)
            let dir = tempDir()
            _ = try trainText(textConfig(path, steps: 16), ranks: 2, runDir: dir, stopAt: 5)
            let resumed = try trainText(textConfig(path, steps: 16), ranks: 2, runDir: dir, resume: "auto")
            #expect(!straight.weights.isEmpty && resumed.weights == straight.weights)
        }

        @Test func generationIsSeededAndStopsAtANewline() throws {
            let path = wordFile()
            let run = try trainText(textConfig(path, steps: 30), ranks: 1)
            let model = try #require(run.model)
            let vocabulary = try #require(run.trainer?.data.vocabulary)
            let g = TextGenerator(model: model, vocabulary: vocabulary, context: 12)
            let a = try g.generate(count: 5, temperature: 0.8, seed: 1)
            #expect(a == (try g.generate(count: 5, temperature: 0.8, seed: 1)))
            #expect(a != (try g.generate(count: 5, temperature: 0.8, seed: 2)))
            #expect(a.allSatisfy { !$0.contains("\n") && $0.count <= 200 })
            let prompted = try g.generate(count: 2, temperature: 0, seed: 1, prompt: "ab", maxLength: 5)
            #expect(prompted.allSatisfy { $0.hasPrefix("ab") } && prompted[0] == prompted[1])  // greedy
            #expect(throws: TrainerError.self) { try g.generate(count: 1, temperature: 1, seed: 1, prompt: "A") }
        }

        @Test func modelMistakesNameTheLayer() throws {
            let path = wordFile()
            func problem(_ model: [LayerSpec]) -> String {
                var c = textConfig(path, steps: 1)
                c.model = model
                do {
                    _ = try Trainer(config: c, communicator: LocalCommunicator(), options: RunOptions(quiet: true))
                    return "accepted"
                } catch { return "\(error)" }
            }
            #expect(
                problem([.embedding(dim: 10), .transformer(heads: 3, feedForward: 8, dropout: 0, causal: true)])
                    .contains("model[1]: transformer width 10 is not divisible by heads: 3"))
            #expect(
                problem([.layerNorm(eps: 1e-5), .embedding(dim: 8)]).contains(
                    "model[1]: embedding must be the first layer"))
            #expect(
                problem([.embedding(dim: 8), .linear(out: 5, bias: true)]).contains(
                    "next-token cross_entropy needs [12, 27] scores per sample"))
            var c = config(steps: 1)
            c.model = [.positional]
            #expect(throws: ConfigError.self) { try ModelBuilder.build(c.model, sampleShape: [4, 3], seed: 1) }
        }
    }
}
