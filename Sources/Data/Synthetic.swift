import Foundation

/// Generated datasets for the examples, drawn from the counter-based generator.
public enum Synthetic {
    /// y = 3x + 2 + N(0, 0.5^2), x uniform in [-2, 2]: `count` samples of one feature.
    public static func linearRegression(count: Int, seed: UInt64, split: UInt32 = 0) throws -> Dataset {
        let x = Tensor.randomUniform([count], low: -2, high: 2, seed: seed, purpose: .data, stream: 2 * split)
        let noise = Tensor.randomNormal([count], std: 0.5, seed: seed, purpose: .data, stream: 2 * split + 1)
        let y = zip(x.scalars, noise.scalars).map { 3 * $0 + 2 + $1 }
        return try Dataset(
            features: .floats(x.scalars), targets: .values(y, width: 1), sampleShape: [1],
            source: "synthetic linear regression")
    }

    /// Windows of a noisy sine wave: `steps` values [steps, 1] predict the next (clean) value.
    public static func sineSequences(count: Int, steps: Int, seed: UInt64, noise: Float = 0.05, split: UInt32 = 0)
        throws -> Dataset
    {
        let phases = Tensor.randomUniform([count], low: 0, high: 2 * .pi, seed: seed, purpose: .data, stream: 2 * split)
        let jitter = Tensor.randomNormal([count * steps], std: noise, seed: seed, purpose: .data, stream: 2 * split + 1)
        var xs = [Float]()
        var ys = [Float]()
        xs.reserveCapacity(count * steps)
        let dt: Float = 0.25
        for (i, phase) in phases.scalars.enumerated() {
            for t in 0..<steps { xs.append(sin(phase + Float(t) * dt) + jitter.data[i * steps + t]) }
            ys.append(sin(phase + Float(steps) * dt))
        }
        return try Dataset(
            features: .floats(xs), targets: .values(ys, width: 1), sampleShape: [steps, 1],
            source: "synthetic sine sequences")
    }
}
