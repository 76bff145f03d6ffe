import Foundation
import Tandem
import Testing

/// An optimizer written outside the package, against the public API only (this file does not
/// import anything @testable): sign descent on a momentum buffer, p -= lr * sign(v), v = 0.9 v + g.
final class SignMomentum: Optimizer {
    override var stateNames: [String] { ["velocity"] }
    override var name: String { "sign_momentum" }
    override func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ s: [UnsafeMutablePointer<Float>],
        _ n: Int
    ) {
        let v = s[0]
        for i in 0..<n {
            v[i] = 0.9 * v[i] + g[i]
            p[i] -= learningRate * (v[i] > 0 ? 1 : v[i] < 0 ? -1 : 0)
        }
    }
}

extension TrainerTests {
    /// A custom optimizer trains data-parallel, its state goes into checkpoints under its own
    /// names, and a stopped run resumes bit for bit (the state was restored: without it the
    /// momentum would restart at zero).
    @Suite struct CustomOptimizerTests {
        @Test func customOptimizerTrainsAndResumesBitExactly() throws {
            let make: @Sendable (NamedTensors) -> Optimizer = { SignMomentum($0, learningRate: 0.01) }
            let adam = try train(config(steps: 30), ranks: 2)
            let straight = try train(config(steps: 30), ranks: 2, optimizer: make)
            #expect(!straight.weights.isEmpty && straight.weights != adam.weights)
            let losses = straight.events.filter { $0.split == "train" }.map(\.loss)
            #expect(try #require(losses.last) < losses[0], "\(losses)")
            let dir = tempDir()
            _ = try train(config(steps: 30), ranks: 2, runDir: dir, stopAt: 15, optimizer: make)
            let saved = try Safetensors.read(
                try #require(Checkpoint.candidates(in: dir + "/checkpoints").first) + "/optimizer.safetensors")
            #expect(saved.metadata["optimizer"] == "sign_momentum")
            #expect(saved.tensors.map(\.name).contains("0.weight.velocity"), "\(saved.tensors.map(\.name))")
            let resumed = try train(config(steps: 30), ranks: 2, runDir: dir, resume: "auto", optimizer: make)
            #expect(resumed.weights == straight.weights)
        }

        /// An optimizer over another model's parameters is refused by name.
        @Test func anOptimizerOfAnotherModelIsRefused() throws {
            let other: @Sendable (NamedTensors) -> Optimizer = { _ in
                SignMomentum(
                    Linear(inFeatures: 8, outFeatures: 3, key: InitKey(seed: 1, layer: 0)).namedParameters,
                    learningRate: 0.1)
            }
            #expect(
                performing: { _ = try train(config(steps: 2), ranks: 1, optimizer: other) },
                throws: { "\($0)".contains("not made over this model's namedParameters") })
        }
    }
}
