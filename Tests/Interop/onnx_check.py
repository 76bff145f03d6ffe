"""Every shipped config's model exported to ONNX, judged by ONNX's checker and ONNX Runtime.

Usage: onnx_check.py TANDEM WORKDIR [CONFIG ...]. For each config: train a few steps, `tandem export`,
`onnx.checker.check_model(full_check=True)`, then ONNX Runtime on raw test inputs (pixels 0-255,
features as read, token ids) against `tandem predict --output X.npy` on the same inputs: outputs
within 1e-4 (relative to the outputs' scale where it exceeds 1) and the same predicted classes.
Prints one line per config; exits 1 at the first failure.
"""
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

tandem, work = sys.argv[1], sys.argv[2]
configs = sys.argv[3:] or sorted(glob.glob("configs/*.yaml"))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = np.random.default_rng(0)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(args):
    p = subprocess.run([tandem] + args, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        fail(f"tandem {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return p.stdout


def inputs(manifest, data):
    """Raw test inputs, as the data files hold them."""
    shape = manifest["input"]["sample_shape"]
    kind = data["dataset"]
    if kind in ("fashion-mnist", "mnist"):
        folder = data.get("path", "/usr/share/datasets/fashion-mnist")
        with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz")) as f:
            pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        return pixels[:200 * 784].reshape(200, *shape).astype(np.float32)
    if kind == "csv":
        names = manifest["input"]["csv"]["features"]
        with open(data["path"]) as f:
            header = f.readline().strip().split(",")
            rows = [line.strip().split(",") for line in f if line.strip()]
        columns = [header.index(n) for n in names]
        complete = [r for r in rows if all(r[c] not in ("", "NA", "?") for c in columns)]
        return np.array([[float(r[c]) for c in columns] for r in complete[:100]], dtype=np.float32)
    if kind == "text":
        vocabulary = len(manifest["input"]["vocabulary"])
        return rng.integers(0, vocabulary, size=(16, *shape)).astype(np.int64)
    return rng.normal(size=(100, *shape)).astype(np.float32)


# Layers no shipped config uses, so every layer Tandem has is exported at least once.
zoo = {
    "zoo-image": """name: zoo-image
data: {dataset: fashion-mnist, normalize: {mean: 0.286, std: 0.353}}
model:
  - conv2d: {out: 4, kernel: 3, padding: 1, bias: false}
  - batchnorm
  - elu
  - avgpool: {kernel: 2}
  - residual: {body: [{conv2d: {out: 4, kernel: 3, padding: 1}}, tanh], shortcut: [{conv2d: {out: 4, kernel: 1}}]}
  - flatten
  - linear: {out: 32}
  - sigmoid
  - dropout: {p: 0.3}
  - linear: {out: 16}
  - gelu
  - batchnorm
  - linear: {out: 10}
  - softmax
loss: cross_entropy
optimizer: {name: adam, lr: 0.001}
train: {epochs: 1, batch_size: 32}
""",
    "zoo-sequence": """name: zoo-sequence
data: {dataset: sine, samples: 256, test_samples: 64, steps: 12}
model:
  - rnn: {hidden: 8, return_sequence: true}
  - linear: {out: 8}
  - transformer: {heads: 2, ff: 16, dropout: 0.1, causal: false}
  - lstm: {hidden: 6, return_sequence: true}
  - layernorm
  - rnn: {hidden: 5}
  - linear: {out: 1}
loss: mse
optimizer: {name: adam, lr: 0.01}
train: {epochs: 1, batch_size: 16}
""",
}
if not sys.argv[3:]:
    for zoo_name, text in zoo.items():
        with open(os.path.join(work, zoo_name + ".yaml"), "w") as f:
            f.write(text)
        configs.append(os.path.join(work, zoo_name + ".yaml"))

for config in configs:
    name = os.path.basename(config)[:-5]
    run_dir = os.path.join(work, name)
    small = ["--set", "data.limit=2000", "--set", "data.test_limit=200"] if "fashion" in name or "image" in name else []
    run(["train", "--config", config, "--run-dir", run_dir, "--set", "train.max_steps=3", "--quiet"] + small)
    folder = os.path.join(run_dir, "checkpoints")
    checkpoint = os.path.join(folder, sorted(os.listdir(folder))[-1])
    with open(os.path.join(checkpoint, "trainer.json")) as f:
        manifest = json.load(f)
    model_path = os.path.join(work, name + ".onnx")
    run(["export", "--checkpoint", checkpoint, "--onnx", model_path])
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    x = inputs(manifest, manifest["config"]["data"])
    np.save(os.path.join(work, name + "-in.npy"), x)
    run(["predict", "--checkpoint", checkpoint, "--input", os.path.join(work, name + "-in.npy"),
         "--output", os.path.join(work, name + "-out.npy")])
    want = np.load(os.path.join(work, name + "-out.npy"))
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    if got.shape != want.shape:
        fail(f"{name}: ONNX Runtime gives shape {got.shape}, tandem predict {want.shape}")
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max())
    if err > 1e-4 * scale:
        fail(f"{name}: ONNX Runtime differs from tandem predict by {err:.2e} (outputs up to {scale:.2f})")
    classes = manifest["input"].get("classes")
    same = ""
    if classes:
        agree = float((got.argmax(-1) == want.argmax(-1)).mean())
        if agree < 1:
            fail(f"{name}: predicted classes agree on {agree:.4f} of the samples")
        same = ", same classes"
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"ok  {name}: {x.shape[0]} samples, max difference {err:.1e}{same}; ops {' '.join(ops)}")
