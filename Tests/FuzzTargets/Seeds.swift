import CZlib
import Foundation
import Tandem

extension FuzzTargets {
    /// Valid inputs for each reader: where mutation starts.
    public static func seeds(_ reader: Reader) -> [[UInt8]] {
        switch reader {
        case .safetensors:
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            let b = Tensor([0.5], shape: [1])
            return [
                Safetensors.encode([("weight", a), ("bias", b)], metadata: ["format": "pt", "step": "3"]),
                Safetensors.encode([("0.weight", Tensor(zeros: [4, 2])), ("empty", Tensor(zeros: [0, 3]))]),
                Safetensors.encode([]),
            ]
        case .idx, .idxGzip:
            let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2] + (0..<12).map { UInt8($0 * 20) }
            let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 9]
            return [images, labels]
        case .csv:
            return [
                Array("a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n9,10,x\n\"1.5\",NA,y\n".utf8),
                Array("f1,label,f2\n0.1,3,1e3\n-2,1,4\n5,2,NaN\n6,3,7\n1,1,1\n".utf8),
            ]
        case .yaml:
            return [
                Array(baseConfig.utf8), Array("seed=7\n".utf8), Array("optimizer.lr=0.5\n".utf8),
                Array("model.1=gelu\n".utf8), Array("optimizer.betas=[&b 0.9, 0.999]\n".utf8),
            ]
        case .text:
            return [
                Array("apple\nbanana\ncherry\ndate\nelderberry\nfig\n".utf8),
                Array("héllo wörld, ünïcode ☃ text\n".utf8),
            ]
        case .trainerJSON:
            return [Array(trainerJSON.utf8)]
        case .npy:
            return [NPY.encode(shape: [3, 2], float32: [1, -2, 3.5, 4, 0, 6]), NPY.encode(shape: [1], float32: [7])]
        case .npz:
            let x = NPY.encode(shape: [2, 2], float32: [1, 2, 3, 4])
            let y = NPY.encode(shape: [2], float32: [0, 1])
            return [storedZip([("x.npy", x), ("y.npy", y)])]
        }
    }

    /// A zip archive of stored (uncompressed) members, as np.savez writes it.
    static func storedZip(_ members: [(String, [UInt8])]) -> [UInt8] {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for (name, data) in members {
            let crc = data.withUnsafeBytes {
                Int(crc32(0, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count)))
            }
            let common =
                le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(crc, 4) + le(data.count, 4)
                + le(data.count, 4) + le(name.utf8.count, 2) + le(0, 2)
            directory +=
                le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
                + le(out.count, 4) + Array(name.utf8)
            out += le(0x0403_4B50, 4) + common + Array(name.utf8) + data
        }
        let end =
            le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
            + le(directory.count, 4) + le(out.count, 4) + le(0, 2)
        return out + directory + end
    }

    /// trainer.json as a real run wrote it (fashion-mlp, step 6).
    static let trainerJSON = """
        {"best_accuracy": 0.555, "config": {"checkpoint": {"every_steps": 500, "keep_best": false, "keep_last": 3}, \
        "data": {"dataset": "fashion-mnist", "drop_last": true, "limit": 500, "normalize": {"mean": 0.286, "std": 0.353}, \
        "one_hot": false, "path": "/usr/share/datasets/fashion-mnist", "prefetch": false, "shuffle": true, "test_limit": 200}, \
        "determinism": {"mode": "fast", "virtual_shards": 4}, "distributed": {"bucket_mb": 1, "timeout_s": 300}, \
        "loss": "cross_entropy", "model": ["flatten", {"linear": {"bias": true, "out": 128}}, "relu", \
        {"dropout": {"p": 0.20000000298023232}}, {"linear": {"bias": true, "out": 10}}], "name": "fashion-mlp", \
        "optimizer": {"betas": [0.9, 0.999], "eps": 1e-08, "lr": 0.001, "min_lr": 0, "name": "adam", "schedule": "cosine", \
        "warmup_steps": 0}, "seed": 1, "train": {"batch_size": 64, "epochs": 5, "eval_batch_size": 1000, \
        "grad_accumulation": 1, "log_every_steps": 50, "max_steps": 6, "on_nonfinite": "abort"}}, \
        "cursor": {"epoch": 0, "offset": 384}, "files": {"model.safetensors": {"bytes": 407408, "crc32": "2bf8c1c8"}, \
        "optimizer.safetensors": {"bytes": 814872, "crc32": "49564e05"}}, "format": "tandem-checkpoint", \
        "last_test": {"accuracy": 0.555, "loss": 1.5256451416015624, "samples": 200}, "pending_metrics": [0, 0, 0], \
        "seed": 1, "step": 6, "version": 1, "world_size": 1}
        """
}
