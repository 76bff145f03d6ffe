import Foundation
import Tandem
import Testing

@testable import Trainer

/// Damaged or hand-edited files and config values: each is one clear error, never a trap.
@Suite(.serialized) struct HostileInputTests {
    /// A real checkpoint of a short run, and its trainer.json as JSON to edit.
    func checkpoint() throws -> (folder: String, manifest: [String: Any]) {
        let dir = tempDir()
        var cfg = config(steps: 6)
        cfg.checkpoint.everySteps = 3
        _ = try train(cfg, ranks: 1, runDir: dir)
        let folder = try #require(Checkpoint.candidates(in: dir + "/checkpoints").first)
        let json = try #require(FileManager.default.contents(atPath: folder + "/trainer.json"))
        return (folder, try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]))
    }

    func rewrite(_ folder: String, _ manifest: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: manifest)
        try data.write(to: URL(fileURLWithPath: folder + "/trainer.json"))
    }

    /// Every edit of trainer.json that once trapped, indexed out of range, or made nonsense folders.
    @Test func trainerJSONFieldsAreRangeChecked() throws {
        let (folder, good) = try checkpoint()
        let edits: [(String, (inout [String: Any]) -> Void, String)] = [
            ("step Int.max", { $0["step"] = Int.max }, "step \(Int.max) is outside"),
            ("negative step", { $0["step"] = -97 }, "step -97 is outside"),
            ("step 2.5", { $0["step"] = 2.5 }, "step"),
            ("epoch Int.max", { $0["cursor"] = ["epoch": Int.max, "offset": 0] }, "cursor.epoch"),
            ("empty pending", { $0["pending_metrics"] = [Double]() }, "pending_metrics has 0 values, not 3"),
            ("five pending", { $0["pending_metrics"] = [1.0, 2, 3, 4, 5] }, "pending_metrics has 5 values"),
            ("world size 0", { $0["world_size"] = 0 }, "world_size 0"),
            ("keep_best NaN", { $0["keep_best"] = ["best": "nan", "step": 3, "stale": 0] }, "keep_best"),
            ("stale -1", { $0["early_stopping"] = ["best": 0.5, "step": 3, "stale": -1] }, "early_stopping"),
            ("step as text", { $0["step"] = "ten" }, "step"),
            // Once passed as finite and then trapped converting the count to Int on resume.
            ("pending count 1e308", { $0["pending_metrics"] = [1.0, 1, 1e308] }, "correct <= count <= "),
            ("pending correct > count", { $0["pending_metrics"] = [1.0, 3, 2] }, "correct <= count <= "),
            ("best as text", { $0["keep_best"] = ["best": "0.5", "step": 3, "stale": 0] }, "keep_best.best"),
            ("accuracy as text", { $0["last_test"] = ["accuracy": "0.9", "loss": 0.3] }, "last_test.accuracy"),
        ]
        for (what, edit, fragment) in edits {
            var m = good
            edit(&m)
            try rewrite(folder, m)
            #expect(throws: CheckpointError.self, "\(what)") { try Checkpoint.read(folder) }
            do { _ = try Checkpoint.read(folder) } catch {
                let line = "\(error)"
                #expect(line.contains(fragment) && !line.contains("\n"), "\(what): \(line)")
            }
        }
    }

    /// The resume broadcast carries a typed state: it round-trips, and values out of range are
    /// refused by name instead of trapping in a conversion.
    @Test func resumeStateRoundTripsAndIsRangeChecked() throws {
        var m = CheckpointManifest(
            step: 12, cursor: Cursor(epoch: 2, offset: 64), seed: 1, worldSize: 2, pendingMetrics: [3.5, 7, 9],
            keepBest: MonitorState(best: 0.25, step: 10, stale: 1), files: [:], config: JSONAny([String: Any]()))
        let state = try ResumeState(manifest: m, optimizerSteps: 12, hasBestWeights: true)
        #expect(try ResumeState(decoding: state.encoded()) == state)
        #expect(try ResumeState(decoding: ResumeState.none) == nil)
        m.pendingMetrics = [1, 1, 1e308]
        #expect { try ResumeState(manifest: m, optimizerSteps: 1, hasBestWeights: false) } throws: {
            "\($0)".contains("correct <= count")
        }
        for (index, value, fragment) in [(1, 1e300, "step"), (3, -64.0, "cursor.offset"), (6, -1, "pending")] {
            var v = state.encoded()
            v[index] = value
            #expect(throws: ResumeStateError.self, "\(fragment)") { try ResumeState(decoding: v) }
        }
    }

    /// A cursor past the epoch (or not on a batch boundary) is refused on resume, on every rank.
    @Test func resumeRefusesACursorOutsideTheData() throws {
        let (folder, good) = try checkpoint()
        for offset in [-32, 5, 10_000] {
            var m = good
            m["cursor"] = ["epoch": 1, "offset": offset]
            try rewrite(folder, m)
            #expect(
                performing: { _ = try train(config(steps: 8), ranks: 2, resume: folder) },
                throws: { e in
                    "\(e)".contains(offset < 0 ? "cursor.offset" : "offset \(offset) is not the start of a batch")
                })
        }
    }

    /// The optimizer's step count in its safetensors metadata is bounded too.
    @Test func optimizerStepCountIsBounded() throws {
        let p = Tensor(zeros: [2])
        p.requiresGrad = true
        let saved = Adam([("w", p)]).stateDict()
        var meta = saved.metadata
        meta["step"] = String(Int.max)
        #expect { try Adam([("w", p)]).loadStateDict(saved.tensors, metadata: meta, source: "x") } throws: {
            "\($0)".contains("outside 0...")
        }
    }

    /// Past step 10^8 the folder names grow a digit: order is by number, not text.
    @Test func checkpointsAreOrderedByStepNumber() throws {
        let dir = tempDir()
        for step in [99_999_999, 123_456_789, 7, 1_000_000_000] {
            try FileManager.default.createDirectory(
                atPath: dir + "/" + Checkpoint.folderName(step: step), withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: dir + "/step-123456789.tmp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/step--0000097", withIntermediateDirectories: true)
        let names = Checkpoint.candidates(in: dir).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names == ["step-1000000000", "step-123456789", "step-99999999", "step-00000007"])
    }

    /// zlib's length is 32-bit: a file of 4 GiB + 3 bytes is checksummed in chunks (it trapped).
    /// The file is sparse (zeros), so it costs no disk; the value is zlib's own (Python, streamed).
    @Test func checksumOfAFileBeyondFourGiB() throws {
        let path = tempDir() + "/big"
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        #expect(ftruncate(fd, 1 << 32) == 0)
        #expect(lseek(fd, 1 << 32, SEEK_SET) == 1 << 32)
        #expect(write(fd, "abc", 3) == 3)
        close(fd)
        let sum = try #require(Checksum.crc32(file: path))
        #expect(sum.bytes == (1 << 32) + 3 && sum.crc == "eb2147cc")
        try FileManager.default.removeItem(atPath: path)
    }

    /// Config values that once trapped or went unchecked.
    @Test func configValuesBeyondTheirTypes() throws {
        func error(_ edit: (inout [String: Any]) -> Void) -> String {
            var v = config(steps: 3).configValue
            edit(&v)
            do {
                _ = try TrainingConfig.parse(v, file: "c.yaml")
                return "parsed"
            } catch { return "\(error)" }
        }
        #expect(
            error { $0["optimizer"] = ["name": "adam", "lr": 1e300] }.contains(
                "optimizer.lr: must be positive and at most"))
        #expect(
            error { $0["optimizer"] = ["name": "adam", "lr": 0.1, "clip_grad_norm": 1e39] }.contains("clip_grad_norm"))
        #expect(error { $0["distributed"] = ["timeout_s": 1e10] }.contains("distributed.timeout_s: must be between"))
        #expect(error { $0["distributed"] = ["reduce": "sometimes"] }.contains("distributed.reduce"))
        #expect(error { $0["distributed"] = ["reduce": "after_backward"] } == "parsed")
        for bad in ["..", ".", ".hidden", "a/b", "", "x y", "é"] {
            #expect(error { $0["name"] = bad }.contains("name: must be 1 to 128 ASCII"), "name '\(bad)'")
        }
        #expect(error { $0["name"] = "run-1.v2_b" } == "parsed")
        #expect(
            error {
                $0["modle"] = $0["model"]
                $0["model"] = nil
            } == "c.yaml: modle: unknown key (did you mean 'model'?)")
    }

    /// Mismatches between model, data and loss are config errors before training, not traps.
    @Test func modelDataAndLossMustFit() throws {
        func error(_ edit: (inout TrainingConfig) -> Void) -> String {
            var c = config(steps: 2)
            edit(&c)
            do {
                _ = try train(c, ranks: 1)
                return "trained"
            } catch { return "\(error)" }
        }
        #expect(error { $0.loss = .mse }.contains("loss: mse needs numeric targets"))
        #expect(error { $0.loss = .bceWithLogits }.contains("set data.one_hot: true"))
        #expect(
            error { $0.model[3] = .linear(out: 2, bias: true) }.contains(
                "gives 2 class scores but the data has 3 classes"))
        var mse = config(steps: 2)
        mse.loss = .mse
        mse.model[3] = .linear(out: 4, bias: true)
        let oneHot = TrainingData(
            train: try blobs(count: 64, seed: 1), test: try blobs(count: 30, seed: 2),
            preprocessing: Preprocessing(oneHot: true))
        let model = try ModelBuilder.build(mse.model, sampleShape: [8], seed: 1)
        #expect {
            _ = try Trainer(model: model, data: oneHot, config: mse, communicator: LocalCommunicator())
        } throws: {
            "\($0)".contains(
                "compares the model's output with 3 target value(s) per sample, but the model outputs shape [4]")
        }
        #expect(error { $0.model = [.linear(out: 16, bias: true)] + [.activation(.relu)] }.contains("trained"))
    }

    /// A layer whose parameters cannot fit in memory is named with the size it would need.
    @Test func modelsBeyondMemoryAreRefusedWithTheirSize() throws {
        #expect {
            _ = try ModelBuilder.build(
                [.flatten, .linear(out: .fixed(1 << 24), bias: true)], sampleShape: [1, 28, 28], seed: 1)
        } throws: {
            "\($0)".contains("model[1]: the model would need at least 263.4 GB")
        }
        #expect {
            _ = try ModelBuilder.build(
                [.conv2d(out: 65536, kernel: 3, stride: 1, padding: 1)], sampleShape: [1, 28, 28], seed: 1,
                batchSize: 64)
        } throws: {
            "\($0)".contains("with a batch of 64, training would need")
        }
    }
}

/// Lower layers' errors, phrased by the trainer with config keys.
@Suite struct VocabularyTests {
    @Test func batchSizeProblemsNameWhatWouldWork() {
        #expect(
            Trainer.batchSizeProblem(.batchSmallerThanRanks(batch: 3, ranks: 4))
                == "3 cannot give each of 4 ranks a sample: use a batch size of at least 4, or at most 3 ranks")
        #expect(
            Trainer.batchSizeProblem(.batchLargerThanData(batch: 64, samples: 50))
                == "64 is larger than the 50 training samples (with drop_last)")
    }
}

/// The config entries for residual networks (issue 12, first part).
@Suite struct ResidualConfigTests {
    @Test func globalAveragePoolAndBiasFreeConvolutionInAConfig() throws {
        let specs: [LayerSpec] = [
            .conv2d(out: 4, kernel: 3, stride: 1, padding: 1, bias: false), .activation(.relu),
            .globalAvgPool, .linear(out: 10, bias: false),
        ]
        let model = try ModelBuilder.build(specs, sampleShape: [1, 8, 8], seed: 1)
        #expect(model.namedParameters.map(\.name) == ["0.weight", "3.weight"])
        #expect(try model.outputShape(for: [2, 1, 8, 8]) == [2, 10])
        var c = config(steps: 1)
        c.model = specs
        #expect(try TrainingConfig.parse(c.configValue, file: "x").model == specs)
        #expect { _ = try ModelBuilder.build([.globalAvgPool], sampleShape: [8], seed: 1) } throws: {
            "\($0)".contains("model[0]: global_avgpool needs input of rank 4")
        }
    }
}

/// `residual: {body, shortcut}` in a config: built, named, round-tripped, mismatches refused.
@Suite struct ResidualBlockConfigTests {
    @Test func residualBlocksInAConfig() throws {
        let block = LayerSpec.residual(
            body: [.layerNorm(), .linear(out: 8, bias: true), .activation(.relu)], shortcut: nil)
        let down = LayerSpec.residual(body: [.linear(out: 4, bias: true)], shortcut: [.linear(out: 4, bias: false)])
        let specs: [LayerSpec] = [.linear(out: 8, bias: true), block, down, .linear(out: 3, bias: true)]
        let model = try ModelBuilder.build(specs, sampleShape: [8], seed: 1)
        #expect(
            model.namedParameters.map(\.name) == [
                "0.weight", "0.bias", "1.body.0.weight", "1.body.0.bias", "1.body.1.weight", "1.body.1.bias",
                "2.body.0.weight", "2.body.0.bias", "2.shortcut.0.weight",
                "3.weight", "3.bias",
            ])
        var c = config(steps: 20)
        c.model = specs
        #expect(try TrainingConfig.parse(c.configValue, file: "x").model == specs)
        let trained = try train(c, ranks: 2)  // trains data-parallel like any model
        #expect(trained.weights.count == 11)
        let bad = LayerSpec.residual(body: [.linear(out: 5, bias: true)], shortcut: nil)
        #expect { _ = try ModelBuilder.build([bad], sampleShape: [8], seed: 1) } throws: {
            "\($0)".contains("model[0]: does not fit its input: the body gives [5] per sample, the shortcut [8]")
        }
        var v = c.configValue
        v["model"] = [["residual": ["body": [] as [Any]]]]
        #expect { _ = try TrainingConfig.parse(v, file: "x") } throws: {
            "\($0)".contains("model[0].residual.body: needs at least one layer")
        }
        v["model"] = [["residual": ["body": [["linaer": ["out": 3]]]]]]
        #expect { _ = try TrainingConfig.parse(v, file: "x") } throws: {
            "\($0)".contains("model[0].residual.body[0]: unknown layer 'linaer' (did you mean 'linear'?)")
        }
    }
}
