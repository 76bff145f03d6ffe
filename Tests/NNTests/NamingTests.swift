import Foundation
import NN
import Testing

@Suite struct NamingTests {
    /// nn.Sequential(nn.Flatten(), nn.Linear(784,128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128,10)).state_dict()
    @Test func mlpSavesPyTorchNamesAndShapes() throws {
        let model = Sequential(
            Flatten(), Linear(inFeatures: 784, outFeatures: 128), ReLU(), Dropout(p: 0.2),
            Linear(inFeatures: 128, outFeatures: 10))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-mlp-\(getpid()).safetensors")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveWeights(to: path)
        let back = try Safetensors.read(path)
        #expect(back.tensors.map(\.name) == ["1.weight", "1.bias", "4.weight", "4.bias"])
        #expect(back.tensors.map(\.tensor.shape) == [[128, 784], [128], [10, 128], [10]])
        #expect(model.parameterCount == 784 * 128 + 128 + 1280 + 10)
    }

    @Test func nestedModulesUseDottedNames() {
        let inner = Sequential(Linear(inFeatures: 2, outFeatures: 2), Tanh())
        let outer = Sequential(inner, LSTM(inputSize: 2, hiddenSize: 3))
        #expect(
            outer.namedParameters.map(\.name) == [
                "0.0.weight", "0.0.bias", "1.weight_ih_l0", "1.weight_hh_l0",
                "1.bias_ih_l0", "1.bias_hh_l0",
            ])
    }

    @Test func loadReportsEveryMismatchAtOnce() {
        let model = Sequential(Linear(inFeatures: 3, outFeatures: 2), ReLU(), Linear(inFeatures: 2, outFeatures: 1))
        let weights: NamedTensors = [
            ("0.weight", Tensor(zeros: [2, 4])), ("0.bias", Tensor(zeros: [2])),
            ("2.weight", Tensor(zeros: [1, 2])), ("3.bias", Tensor(zeros: [1])),
        ]
        #expect {
            try model.load(weights, source: "w.safetensors")
        } throws: { error in
            let text = "\(error)"
            return text.contains("missing 2.bias") && text.contains("unexpected 3.bias")
                && text.contains("0.weight (file [2, 4], model [2, 3])") && text.hasPrefix("w.safetensors:")
        }
    }

    @Test func shapeInferenceNamesTheLayer() throws {
        let cnn = Sequential(
            Conv2d(inChannels: 1, outChannels: 32, kernelSize: 3), ReLU(), MaxPool2d(kernel: 2),
            Conv2d(inChannels: 32, outChannels: 64, kernelSize: 3), ReLU(), MaxPool2d(kernel: 2),
            Flatten(), Linear(inFeatures: 1600, outFeatures: 128), ReLU(), Linear(inFeatures: 128, outFeatures: 10))
        #expect(try cnn.outputShape(for: [64, 1, 28, 28]) == [64, 10])
        let bad = Sequential(Flatten(), Linear(inFeatures: 700, outFeatures: 10))
        #expect(throws: ShapeError("linear", "layer 1: input [8, 784] does not end in 700 features (weight [10, 700])"))
        {
            try bad.outputShape(for: [8, 1, 28, 28])
        }
    }
}
