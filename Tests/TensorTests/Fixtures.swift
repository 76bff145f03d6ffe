import Foundation
import Tensor

/// The PyTorch golden values in Tests/Fixtures/torch_reference.json (a copy of
/// ../shared/fixtures; see its README for the layout).
struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Double]
    var tensor: Tensor { Tensor(data.map(Float.init), shape: shape) }
}

struct FixtureCase: Decodable {
    let kind: String
    let name: String
    let inputs: [FixtureTensor]?
    let integer_inputs: [FixtureTensor]?
    let output: FixtureTensor?
    let cotangent: FixtureTensor?
    let input_grads: [FixtureTensor]?
    let initial: FixtureTensor?
    let grads: [FixtureTensor]?
    let after_each_step: [FixtureTensor]?
}

enum Fixtures {
    static let cases: [String: FixtureCase] = {
        struct File: Decodable { let cases: [FixtureCase] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/torch_reference.json")
        let data = try! Data(contentsOf: url)
        let file = try! JSONDecoder().decode(File.self, from: data)
        return Dictionary(uniqueKeysWithValues: file.cases.map { ($0.name, $0) })
    }()

    static func named(_ name: String) -> FixtureCase {
        guard let c = cases[name] else { fatalError("fixture \(name) not in torch_reference.json") }
        return c
    }
}
