import Tensor

/// One convolution layer of a benchmark workload: batch 64, square input.
struct ConvShape {
    let name: String
    let c, h, o, k, stride, pad: Int
}

/// The resnet and cnn workloads' convolutions (the shapes bench/onednn-conv.cpp times too).
let workloadConvs = [
    ConvShape(name: "resnet stem 1->16 3x3 28", c: 1, h: 28, o: 16, k: 3, stride: 1, pad: 1),
    ConvShape(name: "resnet 16->16 3x3 28", c: 16, h: 28, o: 16, k: 3, stride: 1, pad: 1),
    ConvShape(name: "resnet 16->32 3x3 s2 28", c: 16, h: 28, o: 32, k: 3, stride: 2, pad: 1),
    ConvShape(name: "resnet 32->32 3x3 14", c: 32, h: 14, o: 32, k: 3, stride: 1, pad: 1),
    ConvShape(name: "resnet 16->32 1x1 s2 28", c: 16, h: 28, o: 32, k: 1, stride: 2, pad: 0),
    ConvShape(name: "resnet 32->64 3x3 s2 14", c: 32, h: 14, o: 64, k: 3, stride: 2, pad: 1),
    ConvShape(name: "resnet 64->64 3x3 7", c: 64, h: 7, o: 64, k: 3, stride: 1, pad: 1),
    ConvShape(name: "resnet 32->64 1x1 s2 14", c: 32, h: 14, o: 64, k: 1, stride: 2, pad: 0),
    ConvShape(name: "cnn 1->32 3x3 28", c: 1, h: 28, o: 32, k: 3, stride: 1, pad: 0),
    ConvShape(name: "cnn 32->64 3x3 13", c: 32, h: 13, o: 64, k: 3, stride: 1, pad: 0),
]

/// Tandem's conv2d forward + backward per workload shape: ms per batch of 64 and GFLOP/s.
/// The input gradient is computed except for a first layer (1 input channel), as in training.
func convBench(threads: Int) {
    Parallel.setThreads(threads)
    Parallel.setProductThreads(threads)
    print("Tandem conv2d fwd+bwd, batch 64, \(threads) thread(s), ms per batch (best of 7 rounds)")
    print(pad("shape", 30) + pad("ms", 10) + "GFLOP/s")
    for s in workloadConvs {
        let x = Tensor.randomUniform([64, s.c, s.h, s.h], seed: 3)
        x.requiresGrad = s.c > 1
        let w = Tensor.randomUniform([s.o, s.c, s.k, s.k], low: -0.3, high: 0.3, seed: 4, requiresGrad: true)
        let ho = (s.h + 2 * s.pad - s.k) / s.stride + 1
        let seedGrad = Tensor(ones: [64, s.o, ho, ho])
        let t = race([
            {
                let y = Tensor.conv2d(x, weight: w, bias: nil, stride: s.stride, padding: s.pad)
                y.backward(seed: seedGrad)
                w.zeroGrad()
                x.grad = nil
            }
        ])[0]
        let flops = (s.c > 1 ? 3.0 : 2.0) * 2.0 * Double(64 * s.o * ho * ho * s.c * s.k * s.k)
        print(pad(s.name, 30) + pad(fmt(t * 1e3, 3), 10) + fmt(flops / t / 1e9))
    }
}
