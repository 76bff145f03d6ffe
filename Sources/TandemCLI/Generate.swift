import ArgumentParser
import Foundation
import Tandem

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample text from a character-level model (data.dataset: text).",
        discussion: """
            Each sample continues the prompt (or starts a new line) one character at a time, drawn
            from the model's scores at the given temperature, and stops at a newline. The same seed
            gives the same samples.
            Example:
              tandem generate --checkpoint runs/words-transformer/checkpoints/step-00000860 --count 10
            """)

    @OptionGroup var source: CheckpointOptions
    @Option(help: "Number of samples.") var count = 20
    @Option(help: "Softmax temperature (0: always the most likely character).") var temperature: Float = 0.8
    @Option(help: "Seed of the draws.") var seed: UInt64 = 1
    @Option(help: "Text each sample starts with.") var prompt = ""
    @Option(help: "Longest sample, in characters.") var maxLength = 200

    func validate() throws {
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be in 1...100000") }
        guard temperature.isFinite && (0...100).contains(temperature) else {
            throw ValidationError("--temperature must be in [0, 100]")
        }
        guard (1...100_000).contains(maxLength) else { throw ValidationError("--max-length must be in 1...100000") }
    }

    func run() throws {
        do {
            let m = try CheckpointModel(path: source.checkpoint)
            guard let vocabulary = m.input.vocabularyScalars, let context = m.config.data.source.context else {
                throw TrainerError(
                    "tandem: \(source.checkpoint): not a text model (generate needs data.dataset: text); use tandem "
                        + "predict")
            }
            let generator = TextGenerator(model: m.model, vocabulary: vocabulary, context: context)
            let samples = try generator.generate(
                count: count, temperature: temperature, seed: seed, prompt: prompt, maxLength: maxLength)
            for s in samples { print(s) }
        } catch {
            Launch.fail(error, comm: nil)
        }
    }
}
