import ArgumentParser
import Foundation
import Tandem

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint: step, epoch, world size at save, tensors, checksum verdict.",
        discussion: """
            Examples:
              tandem inspect runs/fashion-mlp/checkpoints/step-00004685
              tandem inspect runs/fashion-mlp/checkpoints/step-00004685 --json
            Exit code 0 when the checkpoint verifies, 1 when it does not.
            """)

    @Argument(help: "A checkpoint folder.") var path: String
    @Flag(help: "Print JSON for tools.") var json = false

    func run() throws {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        let manifest = try? Checkpoint.manifest(in: folder)
        var verdict = "ok"
        var tensors: [(String, String, [Int])] = []
        do {
            let ck = try Checkpoint.read(folder)
            tensors =
                ck.model.tensors.map { ("model", $0.name, $0.tensor.shape) }
                + ck.optimizer.tensors.map { ("optimizer", $0.name, $0.tensor.shape) }
        } catch { verdict = "\(error)" }
        if json {
            var out: [String: Any] = [
                "path": folder, "valid": verdict == "ok", "verdict": verdict,
                "tensors": tensors.map { ["file": $0.0, "name": $0.1, "shape": $0.2] },
            ]
            if let m = manifest {
                out["step"] = m.step
                out["epoch"] = m.cursor.epoch
                out["cursor_offset"] = m.cursor.offset
                out["world_size"] = m.worldSize
                out["seed"] = m.seed
                out["version"] = m.version
                if let t = m.lastTest { out["last_test"] = t }
            }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("checkpoint  \(folder)")
            if let m = manifest {
                print("step        \(m.step)  (\(Inspect.position(m.cursor)))")
                print("world size  \(m.worldSize) at save; seed \(m.seed); format version \(m.version)")
                if let t = m.lastTest {
                    print(
                        "last test   loss \(String(format: "%.4f", t["loss"] ?? .nan))"
                            + (t["accuracy"].map { $0.isNaN ? "" : String(format: ", accuracy %.4f", $0) } ?? ""))
                }
            }
            print("checksums   \(verdict == "ok" ? "ok" : "FAILED: \(verdict)")")
            for (file, name, shape) in tensors {
                print(
                    "  \(file == "model" ? "model    " : "optimizer")  "
                        + "\(name.padding(toLength: max(28, name.count), withPad: " ", startingAt: 0))  \(shape)"
                )
            }
        }
        if verdict != "ok" { throw ExitCode(1) }
    }

    /// Where the run stands, as a user counts epochs (from 1): a cursor at the start of epoch e
    /// means epoch e (0-based) has not begun, so the run is "after epoch e".
    static func position(_ c: Cursor) -> String {
        if c.offset == 0 { return c.epoch == 0 ? "before the first epoch" : "after epoch \(c.epoch)" }
        return "in epoch \(c.epoch + 1), \(c.offset) samples into it"
    }
}
