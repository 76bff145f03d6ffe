import Foundation
import Tensor

/// The PyTorch golden values in Tests/Fixtures/torch_reference.json (a copy of
/// ../shared/fixtures; see its README for the layout).
public struct FixtureTensor: Decodable, Sendable {
    public let shape: [Int]
    public let data: [Double]
    public var tensor: Tensor { Tensor(data.map(Float.init), shape: shape) }
}

public struct FixtureCase: Decodable, Sendable {
    /// The few attributes tests read (others in the file are ignored).
    public struct Attrs: Decodable, Sendable {
        public let mask: FixtureTensor?
        public let p: Double?
        public let names: [String]?
    }
    public let kind: String
    public let attrs: Attrs?
    public let name: String
    public let inputs: [FixtureTensor]?
    public let integerInputs: [FixtureTensor]?
    public let output: FixtureTensor?
    public let cotangent: FixtureTensor?
    public let inputGrads: [FixtureTensor]?
    public let initial: FixtureTensor?
    public let grads: [FixtureTensor]?
    public let afterEachStep: [FixtureTensor]?
    /// Tensors a module holds after the pass (torch_models.json: running statistics).
    public let buffers: [String: FixtureTensor]?

    enum CodingKeys: String, CodingKey {
        case kind, attrs, name, inputs, output, cotangent, initial, grads, buffers
        case integerInputs = "integer_inputs"
        case inputGrads = "input_grads"
        case afterEachStep = "after_each_step"
    }
}

public enum Fixtures {
    /// torch_reference.json (the shared fixtures), torch_extra.json (the same format, made by
    /// make_torch_extra.py for the ops the shared file does not cover) and torch_models.json
    /// (make_torch_models.py: the layers of the models issue).
    public static let cases: [String: FixtureCase] = {
        struct File: Decodable { let cases: [FixtureCase] }
        var all: [String: FixtureCase] = [:]
        for name in ["torch_reference.json", "torch_extra.json", "torch_models.json"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../Fixtures/" + name)
            do {
                let file = try JSONDecoder().decode(File.self, from: try Data(contentsOf: url))
                for c in file.cases { all[c.name] = c }
            } catch {
                fatalError("fixtures: \(url.path) is unreadable: \(error)")
            }
        }
        return all
    }()

    public static func named(_ name: String) -> FixtureCase {
        guard let c = cases[name] else { fatalError("fixture \(name) not in torch_reference.json") }
        return c
    }
}
