"""NumPy arrays as Tandem datasets, judged by NumPy itself: every file here is written by NumPy.

Usage: numpy_check.py TANDEM WORKDIR. Prints one line per check; exits 1 at the first failure.
Checks: training from .npy and from .npz (stored and compressed) gives the same run; every dtype,
byte order and format version Tandem reads gives the same predictions as float32; a regression
model's `tandem predict --input X.npy` equals NumPy's own arithmetic on the checkpoint's weights;
validation arrays; malformed files get one clear line; a file larger than the address space a
`ulimit -v` allows trains (the rows are read where they lie, never loaded whole).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

tandem, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = np.random.default_rng(0)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def path(name):
    return os.path.join(work, name)


def run(args, limit_kb=None, expect_ok=True):
    pre = f"ulimit -v {limit_kb}; " if limit_kb else ""
    cmd = pre + " ".join(f"'{a}'" for a in [tandem] + args)
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=600)
    if expect_ok and p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-400:]}")
    return p


def config(name, data, model, loss="cross_entropy", extra=""):
    text = f"""name: {name}
data: {json.dumps(data)}
model: {json.dumps(model)}
loss: {loss}
optimizer: {{name: adam, lr: 0.01}}
train: {{epochs: 2, batch_size: 32, log_every_steps: 8{extra}}}
"""
    p = path(name + ".yaml")
    with open(p, "w") as f:
        f.write(text)
    return p


def metrics(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def checkpoint(run_dir):
    folder = os.path.join(run_dir, "checkpoints")
    return os.path.join(folder, sorted(os.listdir(folder))[-1])


# Integer-valued features: exact in every dtype below, so every file holds the same numbers.
x = rng.integers(0, 100, size=(480, 2, 3)).astype(np.float32)
w_true = rng.normal(size=(6, 4))
labels = (x.reshape(480, 6) @ w_true).argmax(1).astype(np.int64)
np.save(path("x.npy"), x[:400])
np.save(path("y.npy"), labels[:400])
np.save(path("xt.npy"), x[400:])
np.save(path("yt.npy"), labels[400:])
model = ["flatten", {"linear": {"out": 4}}]
npy = {"dataset": "npy", "normalize": "auto", "train": {"x": path("x.npy"), "y": path("y.npy")},
       "test": {"x": path("xt.npy"), "y": path("yt.npy")}}
run(["train", "--config", config("npy", npy, model), "--run-dir", path("run-npy"), "--quiet"])
reference = metrics(path("run-npy"))
test = [m for m in reference if m["split"] == "test"]
if not test or test[-1]["samples"] != 80 or not test[-1]["accuracy"] > 0.5:
    fail(f"training from .npy: test lines {test}")
print(f"ok  trained from .npy (x {x.shape[1:]} float32, y int64): test accuracy {test[-1]['accuracy']:.3f}")

# The same arrays in archives, stored (np.savez) and deflated (np.savez_compressed): the same run.
np.savez(path("d.npz"), x_train=x[:400], y_train=labels[:400], x_test=x[400:], y_test=labels[400:])
np.savez_compressed(path("c.npz"), x_train=x[:400], y_train=labels[:400], x_test=x[400:], y_test=labels[400:])
for archive in ["d.npz", "c.npz"]:
    data = {"dataset": "npy", "normalize": "auto",
            "train": {"npz": path(archive), "x": "x_train", "y": "y_train"},
            "test": {"npz": path(archive), "x": "x_test", "y": "y_test"}}
    name = "run-" + archive.replace(".", "-")
    run(["train", "--config", config(name, data, model), "--run-dir", path(name), "--quiet"])
    got = [{k: v for k, v in m.items() if k not in ("time", "samples_per_s")} for m in metrics(path(name))]
    want = [{k: v for k, v in m.items() if k not in ("time", "samples_per_s")} for m in reference]
    if got != want:
        fail(f"{archive}: metrics differ from the .npy run")
print("ok  .npz stored and compressed: metrics identical to the .npy run")

# Every dtype, byte order and format version gives the predictions float32 gives.
ck = checkpoint(path("run-npy"))
base = run(["predict", "--checkpoint", ck, "--input", path("xt.npy")]).stdout
variants = ["<f8", ">f4", ">f8", "<i2", ">i4", "<i8", "|u1", ">u2", "<u4", "|i1"]
for dtype in variants:
    p = path(f"xt-{dtype[1:]}-{'be' if dtype[0] == '>' else 'le'}.npy")
    np.save(p, x[400:].astype(np.dtype(dtype)))
    if run(["predict", "--checkpoint", ck, "--input", p]).stdout != base:
        fail(f"predictions from dtype {dtype} differ from float32's")
for version in [(1, 0), (2, 0), (3, 0)]:
    p = path(f"xt-v{version[0]}.npy")
    with open(p, "wb") as f:
        np.lib.format.write_array(f, x[400:], version=version)
    if run(["predict", "--checkpoint", ck, "--input", p]).stdout != base:
        fail(f"predictions from format version {version} differ")
print(f"ok  predict --input X.npy: {len(variants)} dtypes/byte orders and versions 1.0, 2.0, 3.0 agree with float32")

# Regression: tandem predict against NumPy's arithmetic on the checkpoint's own weights.
features = rng.normal(size=(300, 5)).astype(np.float32)
targets = (features @ rng.normal(size=(5, 1)) + 0.5).astype(np.float32)
np.save(path("rx.npy"), features[:240])
np.save(path("ry.npy"), targets[:240])
np.save(path("rxt.npy"), features[240:])
np.save(path("ryt.npy"), targets[240:])
data = {"dataset": "npy", "normalize": {"mean": 0.25, "std": 2.0},
        "train": {"x": path("rx.npy"), "y": path("ry.npy")}, "test": {"x": path("rxt.npy"), "y": path("ryt.npy")}}
run(["train", "--config", config("reg", data, [{"linear": {"out": 1}}], loss="mse"), "--run-dir", path("run-reg"),
     "--quiet"])
ck = checkpoint(path("run-reg"))
with open(os.path.join(ck, "model.safetensors"), "rb") as f:
    raw = f.read()
n = int.from_bytes(raw[:8], "little")
header = json.loads(raw[8:8 + n])
def tensor(name):
    start, end = header[name]["data_offsets"]
    return np.frombuffer(raw[8 + n + start:8 + n + end], dtype="<f4").reshape(header[name]["shape"])
expected = ((features[240:] - 0.25) / 2.0) @ tensor("0.weight").T + tensor("0.bias")
lines = run(["predict", "--checkpoint", ck, "--input", path("rxt.npy")]).stdout.strip().splitlines()[1:]
got = np.array([float(l.split(",")[1]) for l in lines])
err = np.abs(got - expected[:, 0]).max()
if len(got) != 60 or err > 1e-4:
    fail(f"regression predictions differ from NumPy's by {err}")
print(f"ok  regression predict equals NumPy on the checkpoint's weights (max difference {err:.2e})")

# Validation arrays of their own: evaluated each epoch, the test split once at the end.
val = dict(npy, validation={"x": path("xt.npy"), "y": path("yt.npy")})
run(["train", "--config", config("val", val, model, extra=", early_stopping: {patience: 2}"), "--run-dir",
     path("run-val"), "--quiet"])
splits = [m["split"] for m in metrics(path("run-val")) if m["split"] != "train"]
if splits != ["validation", "validation", "test"]:
    fail(f"validation arrays: evaluation lines {splits}")
print("ok  validation arrays: validation at each epoch end, test once at the end")

# Malformed files: one line naming the file and what is wrong, non-zero exit, no trap.
def bad(name, write, fragment, key="x"):
    p = path(name)
    write(p)
    data = dict(npy, train=dict(npy["train"], **{key: p}))
    r = run(["train", "--config", config("bad", data, model), "--run-dir", path("run-bad"), "--quiet"],
            expect_ok=False)
    lines = r.stderr.strip().splitlines()
    if r.returncode == 0 or len(lines) != 1 or fragment not in lines[0].replace(p, "") or p not in lines[0]:
        fail(f"{name}: exit {r.returncode}, stderr {r.stderr.strip()[:300]!r}, expected one line with {fragment!r}")
    return lines[0]

def raw_write(data):
    return lambda p: open(p, "wb").write(data)

good = open(path("x.npy"), "rb").read()
cases = [
    ("fortran.npy", lambda p: np.save(p, np.asfortranarray(x[:400])), "Fortran-order"),
    ("truncated.npy", raw_write(good[:len(good) // 2]), "truncated"),
    ("magic.npy", raw_write(b"\x93NUMPX" + good[6:]), "not a .npy file"),
    ("version9.npy", raw_write(good[:6] + b"\x09\x00" + good[8:]), "format version 9.0"),
    ("strings.npy", lambda p: np.save(p, np.array([["ab"] * 6] * 400)), "is not supported"),
    ("structured.npy", lambda p: np.save(p, np.zeros(400, dtype=[("a", "<f4"), ("b", "<i4")])), "structured dtypes"),
    ("complex.npy", lambda p: np.save(p, np.zeros((400, 6), dtype=np.complex64)), "is not supported"),
    ("huge-shape.npy", raw_write(good.replace(b"(400, 2, 3)", b"(99999999999, 2, 3)", 1)), "truncated"),
    ("garbage-header.npy", raw_write(good.replace(b"'shape'", b"'shapf'", 1)), "no shape"),
    ("empty.npy", lambda p: np.save(p, np.zeros((0, 6), dtype=np.float32)), "no samples"),
    ("rows.npy", lambda p: np.save(p, x[:300]), "for the 300 samples of"),
]
for name, write, fragment in cases:
    line = bad(name, write, fragment)
    if os.environ.get("TANDEM_VERBOSE"):
        print("    " + line)
bad("negative.npy", lambda p: np.save(p, -labels[:400] - 1), "outside 0..<", key="y")
bad("float-and-int.npy", lambda p: np.save(p, labels[:400].astype(np.float32)), "some label arrays", key="y")
print(f"ok  {len(cases) + 2} malformed files: one line each naming the file, non-zero exit")

# Larger than the address space: a 2 GiB sparse uint8 array under ulimit -v 1 GiB trains.
rows, width = (2 << 30) // 784 + 1, 784
big = np.lib.format.open_memmap(path("big.npy"), mode="w+", dtype=np.uint8, shape=(rows, 28, 28))
big[::97] = 7  # some rows hold values; the rest are holes that read as zeros
del big
np.save(path("bigy.npy"), (np.arange(rows) % 10).astype(np.uint8))
data = {"dataset": "npy", "normalize": {"mean": 0, "std": 255},
        "train": {"x": path("big.npy"), "y": path("bigy.npy")}, "test": {"x": path("big.npy"), "y": path("bigy.npy")},
        "test_limit": 512}
cfg = config("big", data, ["flatten", {"linear": {"out": 10}}], extra=", max_steps: 40")
r = run(["train", "--config", cfg, "--run-dir", path("run-big"), "--quiet"], limit_kb=1 << 20)
size = os.path.getsize(path("big.npy"))
if not any(m["split"] == "test" for m in metrics(path("run-big"))):
    fail("big file: no test evaluation")
print(f"ok  a {size / 2**30:.2f} GiB .npy trains under ulimit -v 1 GiB (40 steps; rows read where they lie)")
os.remove(path("big.npy"))
