import ArgumentParser
import Foundation
import ONNX
import Tandem

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model as an ONNX graph for serving stacks (ONNX Runtime and others).",
        discussion: """
            The graph takes what the data files hold: Fashion-MNIST pixels 0-255 as float32
            [N, 1, 28, 28], CSV and NumPy features as read, token ids as int64 [N, T]; the run's
            normalization is folded into its first nodes. The batch axis is dynamic; opset 17.
            Example:
              tandem export --checkpoint runs/fashion-mlp/checkpoints/step-00004685 --onnx fashion-mlp.onnx
            """)

    @OptionGroup var source: CheckpointOptions
    @Option(help: "The .onnx file to write.") var onnx: String

    func run() throws {
        do {
            let m = try CheckpointModel(path: source.checkpoint)
            let bytes = try ONNXExport.export(m.model, input: Export.input(m), name: m.config.name)
            // Written whole to a temporary name and renamed: never a partly written model.
            let tmp = onnx + ".tmp"
            guard FileManager.default.createFile(atPath: tmp, contents: bytes) else {
                throw TrainerError("tandem: \(onnx): cannot write the model")
            }
            guard rename(tmp, onnx) == 0 else {
                try? FileManager.default.removeItem(atPath: tmp)
                throw TrainerError("tandem: \(onnx): cannot write the model (\(String(cString: strerror(errno))))")
            }
            print("\(onnx): \(bytes.count) bytes, opset \(ONNXExport.opset), input \(Export.describe(m))")
        } catch let e as ONNXExport.Unsupported {
            Launch.fail(TrainerError("tandem: \(source.checkpoint): \(e)"), comm: nil)
        } catch {
            Launch.fail(error, comm: nil)
        }
    }

    /// How raw values became the network's input in the run (bytes were also scaled by 1/255).
    static func input(_ m: CheckpointModel) -> ONNXExport.Input {
        let i = m.input
        if i.vocabulary != nil { return .init(sampleShape: i.sampleShape, tokenIDs: true) }
        let scale = 1 / i.std / (m.config.data.source.storesBytes ? 255 : 1)
        return .init(sampleShape: i.sampleShape, scale: scale, shift: -i.mean / i.std)
    }

    static func describe(_ m: CheckpointModel) -> String {
        let shape = "[N, " + m.input.sampleShape.map(String.init).joined(separator: ", ") + "]"
        return m.input.vocabulary != nil ? "int64 token ids \(shape)" : "float32 \(shape)"
    }
}
