import Glibc
import NN

/// Samples text from a character-level model: each next character is drawn from the softmax of
/// the last position's scores divided by the temperature, one seeded draw per (sample, position),
/// so the same seed gives the same text. A sample stops at a newline (which is not returned) or
/// after `maxLength` characters.
public struct TextGenerator {
    /// The character-level model.
    public let model: Module
    /// Characters in token order.
    public let vocabulary: [Unicode.Scalar]
    /// Positions the model sees at most (data.context); longer text keeps its last ones.
    public let context: Int

    /// A generator over `model` with windows of `context` tokens.
    public init(model: Module, vocabulary: [Unicode.Scalar], context: Int) {
        self.model = model
        self.vocabulary = vocabulary
        self.context = context
    }

    /// `count` samples, each continuing `prompt` (the prompt is part of the returned text).
    /// Without a prompt a sample starts after a newline when the vocabulary has one.
    public func generate(count: Int, temperature: Float, seed: UInt64, prompt: String = "", maxLength: Int = 200)
        throws -> [String]
    {
        var index: [Unicode.Scalar: Int] = [:]
        for (i, s) in vocabulary.enumerated() { index[s] = i }
        var start: [Int] = []
        for s in prompt.unicodeScalars {
            guard let id = index[s] else {
                throw TrainerError("tandem: the prompt's character '\(s)' is not in the model's vocabulary")
            }
            start.append(id)
        }
        let newline = index["\n"]
        if start.isEmpty, let newline { start = [newline] }
        guard !start.isEmpty else { throw TrainerError("tandem: give a --prompt (the vocabulary has no newline)") }
        let generator = Philox(seed: seed)
        model.eval()
        defer { model.train() }
        return withoutGrad {
            (0..<count).map { sample in
                var tokens = start
                var text = String(String.UnicodeScalarView(prompt.unicodeScalars))
                for position in 0..<maxLength {
                    let window = Array(tokens.suffix(context))
                    let x = Tensor(window.map(Float.init), shape: [1, window.count])
                    let scores = model(x)
                    let last = scores.data + (window.count - 1) * vocabulary.count
                    let u = Philox.unit(
                        generator.bits(.sampling, stream: UInt32(truncatingIfNeeded: position), index: UInt64(sample)).0
                    )
                    let next = TextGenerator.draw(last, vocabulary.count, temperature: temperature, uniform: u)
                    if next == newline { break }
                    tokens.append(next)
                    text.unicodeScalars.append(vocabulary[next])
                }
                return text
            }
        }
    }

    /// Index drawn from softmax(scores / temperature) with a uniform draw in [0, 1); a
    /// temperature of 0 takes the highest score.
    static func draw(_ scores: UnsafePointer<Float>, _ n: Int, temperature: Float, uniform: Float) -> Int {
        var best = 0
        for i in 1..<n where scores[i] > scores[best] { best = i }
        guard temperature > 0 else { return best }
        var weights = [Double](repeating: 0, count: n)
        var total = 0.0
        for i in 0..<n {
            weights[i] = exp(Double((scores[i] - scores[best]) / temperature))
            total += weights[i]
        }
        var target = Double(uniform) * total
        for i in 0..<n {
            target -= weights[i]
            if target < 0 { return i }
        }
        return best
    }
}
