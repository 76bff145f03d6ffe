import ArgumentParser
import Foundation
import Tandem

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict a class or value for each image or row of an input file; writes CSV.",
        discussion: """
            The input is a NumPy .npy array (samples along the first extent, each shaped like the
            training samples; any numeric dtype; the values the data files hold: pixels 0-255,
            features as read, token ids), an IDX image file (gzip or not,
            like the MNIST family's) for image models, or a CSV with the training features' columns
            by name, in any order (the target column, if present, is ignored; missing values are
            filled as training filled them).
            Examples:
              tandem predict --checkpoint runs/fashion-mlp/checkpoints/step-00004685 \\
                  --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --output predictions.csv
              tandem predict --checkpoint runs/csv-example/checkpoints/step-00000100 --input data.csv
              tandem predict --checkpoint runs/my-npy-run/checkpoints/step-00000100 --input x_new.npy
            With --output FILE.npy the model's raw outputs (logits or values) are written as float32.
            """)

    @OptionGroup var source: CheckpointOptions
    @Option(help: "A .npy array, IDX images or CSV rows.") var input: String
    @Option(help: "Where to write the CSV (default: standard output), or a .npy for the raw outputs (logits, values).")
    var output: String?

    func run() throws {
        do {
            let m = try CheckpointModel(path: source.checkpoint)
            if m.input.vocabulary != nil && !input.hasSuffix(".npy") {
                throw TrainerError(
                    "tandem: \(source.checkpoint) is a text model: use tandem generate, or give token ids as .npy")
            }
            let dataset = try loadInput(m)
            var preprocessing = m.input.preprocessing
            if input.hasSuffix(".npy"), m.config.data.source.storesBytes {
                // Pixel values 0-255 as the IDX files hold them, scaled as training scaled the bytes.
                preprocessing.mean *= 255
                preprocessing.std *= 255
            }
            let builder = BatchBuilder(dataset: dataset, preprocessing: preprocessing, seed: 0)
            if let output, output.hasSuffix(".npy") {
                try writeOutputs(m, builder, to: output)
                return
            }
            let classes = m.input.classes
            var lines = [classes != nil ? "index,class" : "index,value"]
            var start = 0
            while start < dataset.count {
                let end = min(start + 1000, dataset.count)
                let batch = builder.make(ids: Array(start..<end), epoch: 0, augment: false)
                let out = m.predict(batch.x)
                if classes != nil {
                    for (i, c) in out.argmax(alongAxis: -1).enumerated() { lines.append("\(start + i),\(c)") }
                } else {
                    let w = out.count / max(batch.count, 1)
                    for i in 0..<batch.count {
                        let values = (0..<w).map { String(out.data[i * w + $0]) }
                        lines.append("\(start + i)," + values.joined(separator: ","))
                    }
                }
                start = end
            }
            let text = lines.joined(separator: "\n") + "\n"
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                    throw TrainerError("tandem: \(output): cannot write the predictions")
                }
            } else {
                print(text, terminator: "")
            }
        } catch {
            Launch.fail(error, comm: nil)
        }
    }

    /// The model's raw outputs (logits or values) for every sample as one float32 .npy.
    func writeOutputs(_ m: CheckpointModel, _ builder: BatchBuilder, to path: String) throws {
        var values: [Float] = []
        var shape: [Int] = []
        var start = 0
        while start < builder.dataset.count {
            let end = min(start + 1000, builder.dataset.count)
            let out = m.predict(builder.make(ids: Array(start..<end), epoch: 0, augment: false).x)
            values += out.scalars
            shape = [builder.dataset.count] + out.shape.dropFirst()
            start = end
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(NPY.encode(shape: shape, float32: values)))
        else { throw TrainerError("tandem: \(path): cannot write the outputs") }
    }

    /// The input as a dataset shaped like the training samples.
    func loadInput(_ m: CheckpointModel) throws -> Dataset {
        let shape = m.input.sampleShape
        if input.hasSuffix(".npy") {
            let x = try NumPyData.open(NumPyData.ArrayRef(path: input))
            let rows = x.shape.count == 1 ? [1] : Array(x.shape.dropFirst())
            guard rows.reduce(1, *) == shape.reduce(1, *) else {
                throw DataError("\(input): samples of shape \(rows), the model takes \(shape)")
            }
            if let vocabulary = m.input.classes, m.input.vocabulary != nil {
                // Token ids index the embedding table: each must be one of its rows.
                let ids = x.allValues()
                if let bad = ids.firstIndex(where: { !($0 >= 0 && $0 < Float(vocabulary) && $0 == $0.rounded()) }) {
                    throw DataError("\(input): value \(ids[bad]) at \(bad) is not a token id in 0..<\(vocabulary)")
                }
            }
            return try Dataset(
                features: .mapped(x), targets: .classes([Int32](repeating: 0, count: x.count), classes: 1),
                sampleShape: shape, source: input)
        }
        if let schema = m.input.csvSchema {
            return try CSVTable.predictionRows(path: input, schema: schema)
        }
        let idx = try IDX.read(input)
        guard Array(idx.shape.dropFirst()) == Array(shape.dropFirst()) || Array(idx.shape.dropFirst()) == shape else {
            throw DataError("\(input): images of shape \(Array(idx.shape.dropFirst())), the model takes \(shape)")
        }
        return try Dataset(
            features: .bytes(idx.bytes), targets: .classes([Int32](repeating: 0, count: idx.shape[0]), classes: 1),
            sampleShape: shape, source: input)
    }
}
