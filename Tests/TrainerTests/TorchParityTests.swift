import Foundation
import Tandem
import TandemConfig
import TestSupport
import Testing

/// Tandem against PyTorch, end to end: from the same initial weights and the same data order,
/// 20 optimizer steps give the same weights (running statistics included) as PyTorch did
/// (Tests/Fixtures/e2e, written by torch_from_config.py `steps`), on 1 and 2 ranks; exact mode
/// is bit-identical for 1, 2 and 4 ranks.
extension TrainerTests {
    @Suite struct TorchParityTests {
        static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/e2e").standardized.path

        /// The final state dict of a 20-step run of `name`.yaml from PyTorch's initial weights.
        func run(_ name: String, ranks: Int, overrides: [String] = [], plainBatchNorm: Bool = false) throws
            -> NamedTensors
        {
            var loaded = try ConfigLoading.load(Self.folder + "/\(name).yaml", overrides: overrides)
            if plainBatchNorm { loaded.model = Self.unsynchronized(loaded.model) }
            let cfg = loaded
            let state = Shared<NamedTensors>([])
            try SimulatedWorld.run(size: ranks, timeout: 120) { comm in
                let options = RunOptions(initFrom: Self.folder + "/\(name)-init.safetensors", quiet: true)
                let t = try Trainer(config: cfg, communicator: comm, options: options)
                try t.fit()
                if comm.rank == 0 { state.withLock { $0 = t.model.stateDict } }
            }
            return state.current
        }

        /// The specs with every batch norm's `sync` off (exact mode normalizes per virtual shard).
        static func unsynchronized(_ specs: [LayerSpec]) -> [LayerSpec] {
            specs.map { spec in
                switch spec {
                case .batchNorm(let momentum, let eps, _): return .batchNorm(momentum: momentum, eps: eps, sync: false)
                case .residual(let body, let shortcut):
                    return .residual(body: unsynchronized(body), shortcut: shortcut.map(unsynchronized))
                default: return spec
                }
            }
        }

        /// Largest |Tandem - PyTorch| over every tensor (names must match exactly).
        func worstDifference(_ mine: NamedTensors, _ name: String) throws -> Float {
            let torch = try Safetensors.read(Self.folder + "/\(name)-after20.safetensors")
            #expect(Set(mine.map(\.name)) == Set(torch.tensors.map(\.name)))
            var worst: Float = 0
            for (n, t) in mine {
                let other = try #require(torch[n], "\(n) missing in PyTorch's weights")
                #expect(other.shape == t.shape, "\(n)")
                worst = max(worst, zip(t.scalars, other.scalars).map { abs($0 - $1) }.max() ?? 0)
            }
            return worst
        }

        @Test(arguments: [1, 2])
        func resNetWithBatchNormMatchesPyTorch(ranks: Int) throws {
            let worst = try worstDifference(try run("resnet", ranks: ranks), "resnet")
            #expect(worst < 2e-4, "largest difference from PyTorch: \(worst)")
        }

        @Test(arguments: [1, 2])
        func transformerMatchesPyTorch(ranks: Int) throws {
            let worst = try worstDifference(try run("transformer", ranks: ranks), "transformer")
            #expect(worst < 2e-5, "largest difference from PyTorch: \(worst)")
        }

        @Test(arguments: ["resnet", "transformer"])
        func exactModeIsBitIdentical(name: String) throws {
            let runs = try [1, 2, 4].map {
                try run(name, ranks: $0, overrides: ["determinism=exact", "train.max_steps=6"], plainBatchNorm: true)
            }
            #expect(!runs[0].isEmpty)
            #expect(runs[0].map(\.tensor.scalars) == runs[1].map(\.tensor.scalars))
            #expect(runs[1].map(\.tensor.scalars) == runs[2].map(\.tensor.scalars))
        }
    }
}
