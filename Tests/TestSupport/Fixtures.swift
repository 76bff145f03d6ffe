import Foundation
import Tensor

/// The PyTorch golden values in Tests/Fixtures/torch_reference.json (a copy of
/// ../shared/fixtures; see its README for the layout).
public struct FixtureTensor: Decodable {
    public let shape: [Int]
    public let data: [Double]
    public var tensor: Tensor { Tensor(data.map(Float.init), shape: shape) }
}

public struct FixtureCase: Decodable {
    public let kind: String
    public let name: String
    public let inputs: [FixtureTensor]?
    public let integer_inputs: [FixtureTensor]?
    public let output: FixtureTensor?
    public let cotangent: FixtureTensor?
    public let input_grads: [FixtureTensor]?
    public let initial: FixtureTensor?
    public let grads: [FixtureTensor]?
    public let after_each_step: [FixtureTensor]?
}

public enum Fixtures {
    public static let cases: [String: FixtureCase] = {
        struct File: Decodable { let cases: [FixtureCase] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/torch_reference.json")
        let data = try! Data(contentsOf: url)
        let file = try! JSONDecoder().decode(File.self, from: data)
        return Dictionary(uniqueKeysWithValues: file.cases.map { ($0.name, $0) })
    }()

    public static func named(_ name: String) -> FixtureCase {
        guard let c = cases[name] else { fatalError("fixture \(name) not in torch_reference.json") }
        return c
    }
}
