import Foundation
import Tandem

/// A layer Tandem does not have: y = x * gain + x (a learned per-feature gain on a skip), with
/// its own parameter named as PyTorch would name it.
final class GainSkip: Module {
    let gain: Tensor
    var isTraining = true
    init(features: Int) { gain = Tensor(repeating: 0.5, shape: [features], requiresGrad: true) }
    var localParameters: NamedTensors { [("gain", gain)] }
    func callAsFunction(_ x: Tensor) -> Tensor { x * gain + x }
    func outputShape(for input: [Int]) throws -> [Int] { input }
}

/// The model: linear, tanh, the custom layer, linear to three classes.
func makeModel(seed: UInt64) -> Sequential {
    Sequential(
        Linear(inFeatures: 2, outFeatures: 32, key: InitKey(seed: seed, layer: 0)), Tanh(), GainSkip(features: 32),
        Linear(inFeatures: 32, outFeatures: 3, key: InitKey(seed: seed, layer: 3)))
}

/// A loss Tandem does not have: cross-entropy with label smoothing 0.1, summed over the batch,
/// written from public tensor ops (log-softmax by hand).
let smoothedCrossEntropy = Loss(name: "smoothed_cross_entropy") { logits, batch in
    let classes = logits.shape[1]
    let shifted = logits - logits.max(alongAxis: 1, keepingDim: true)
    let logProbs = shifted - shifted.exp().sum(alongAxis: 1, keepingDim: true).log()
    var weights = [Float](repeating: 0.1 / Float(classes), count: logits.count)
    for (row, label) in batch.labels.enumerated() { weights[row * classes + label] += 0.9 }
    return -1 * (logProbs * Tensor(weights, shape: logits.shape)).sum()
}

/// An optimizer Tandem does not have: SGD with heavy-ball momentum and a clipped step.
final class ClippedMomentum: Optimizer {
    override var stateNames: [String] { ["velocity"] }
    override var name: String { "clipped_momentum" }
    override func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ s: [UnsafeMutablePointer<Float>],
        _ n: Int
    ) {
        let v = s[0]
        for i in 0..<n {
            v[i] = 0.9 * v[i] + g[i]
            p[i] -= learningRate * Swift.max(-1, Swift.min(1, v[i]))
        }
    }
}

/// Samples of the user's own type: three interleaved spirals, generated on demand.
struct Spirals: SampleSource {
    let count: Int
    let seed: UInt64
    let sampleShape = [2]
    var targets: Dataset.Targets { .classes((0..<count).map { Int32($0 % 3) }, classes: 3) }
    func loadSample(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        let t = Float(index / 3) / Float(count / 3) * 3
        let angle = t + Float(index % 3) * 2 * .pi / 3
        // A deterministic wobble from the index and seed (no shared generator state).
        let noise = Float((UInt64(index) &* 2_654_435_761 &+ seed) % 1000) / 1000 - 0.5
        destination[0] = t * cos(angle) + 0.1 * noise
        destination[1] = t * sin(angle) - 0.1 * noise
    }
}
