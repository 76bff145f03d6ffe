"""PyTorch's side of Tandem's configs: the same network from a config's `model:` list (same
state_dict names), trained with the same recipe. Not run by the tests (they read what it wrote).

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch pyyaml safetensors
    PY=/tmp/torchenv/bin/python
    $PY Tests/Fixtures/torch_from_config.py load CONFIG CHECKPOINT      # load_state_dict(strict=True) + eval
    $PY Tests/Fixtures/torch_from_config.py steps CONFIG OUT_DIR [N]    # init + weights after N steps
    $PY Tests/Fixtures/torch_from_config.py steps CONFIG OUT_DIR N --bf16 --init F.safetensors
                                                    # the same under torch.autocast("cpu", bfloat16)
    $PY Tests/Fixtures/torch_from_config.py recipe CONFIG [--epochs E] [--init F.safetensors]
                                                    # the config's recipe, test metrics per epoch

`steps` writes OUT_DIR/init.safetensors (PyTorch's default initialisation) and
OUT_DIR/after.safetensors: the weights after N optimizer steps on the data in order (the config
must set data.shuffle: false and no augmentation or dropout), which Tandem must reproduce from
`--init-from init.safetensors`.
"""
import gzip
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file, save_file


class Residual(nn.Module):
    """body(x) + shortcut(x), children `body` and `shortcut` (identity: an empty Sequential)."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Sequential()

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class Positional(nn.Module):
    def __init__(self, ctx, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(ctx, dim) * 0.02)

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class EncoderLayer(nn.TransformerEncoderLayer):
    """TransformerEncoderLayer(D, H, F, dropout, gelu, batch_first, norm_first) with its causal mask."""

    def __init__(self, d, heads, ff, dropout, causal):
        super().__init__(d, heads, ff, dropout, activation="gelu", batch_first=True, norm_first=True)
        self.causal = causal

    def forward(self, x):
        if not self.causal:
            return super().forward(x)
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return super().forward(x, src_mask=mask, is_causal=True)


ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU, "elu": nn.ELU}


def layers(specs, x, vocab, ctx):
    """Modules for `specs` and the output of a dummy input pushed through them (for sizes)."""
    out = []
    for spec in specs:
        name, s = (spec, {}) if isinstance(spec, str) else next(iter(spec.items()))
        s = s or {}
        if name == "flatten":
            m = nn.Flatten()
        elif name == "linear":
            n = vocab if s["out"] == "vocab" else s["out"]
            m = nn.Linear(x.shape[-1], n, bias=s.get("bias", True))
        elif name == "conv2d":
            m = nn.Conv2d(x.shape[1], s["out"], s.get("kernel", 3), s.get("stride", 1), s.get("padding", 0),
                          bias=s.get("bias", True))
        elif name in ("maxpool", "avgpool"):
            k = s.get("kernel", 2)
            m = (nn.MaxPool2d if name == "maxpool" else nn.AvgPool2d)(k, s.get("stride", k))
        elif name == "global_avgpool":
            m = GlobalAvgPool()
        elif name == "layernorm":
            m = nn.LayerNorm(x.shape[-1], eps=s.get("eps", 1e-5))
        elif name == "batchnorm":
            cls = nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d
            m = cls(x.shape[1], eps=s.get("eps", 1e-5), momentum=s.get("momentum", 0.1))
        elif name == "dropout":
            m = nn.Dropout(s.get("p", 0.5))
        elif name in ACTIVATIONS:
            m = ACTIVATIONS[name]()
        elif name == "residual":
            body, _ = layers(s["body"], x, vocab, ctx)
            short = layers(s["shortcut"], x, vocab, ctx)[0] if s.get("shortcut") else None
            m = Residual(body, short)
        elif name == "embedding":
            m = nn.Embedding(vocab, s["dim"])
        elif name == "positional":
            m = Positional(ctx, x.shape[-1])
        elif name == "transformer":
            m = EncoderLayer(x.shape[-1], s["heads"], s["ff"], s.get("dropout", 0.1), s.get("causal", True))
        else:
            raise SystemExit(f"torch_from_config: no PyTorch equivalent written for layer {name}")
        m.eval()
        with torch.no_grad():
            x = m(x)
        m.train()
        out.append(m)
    return nn.Sequential(*out), x


def data(cfg):
    """(train x, train y, test x, test y, vocab, ctx) as Tandem reads the config's data."""
    d = cfg["data"]
    if d["dataset"] == "text":
        s = open(d["path"], encoding="utf-8").read()
        vocab = sorted(set(s))
        ids = torch.tensor([{c: i for i, c in enumerate(vocab)}[c] for c in s])
        ctx, stride, frac = d["context"], d.get("stride", d["context"]), d.get("test_fraction", 0.1)
        cut = int((1 - frac) * len(ids))

        def windows(t):
            n = (len(t) - ctx - 1) // stride + 1
            starts = [k * stride for k in range(n)]
            return torch.stack([t[a:a + ctx] for a in starts]), torch.stack([t[a + 1:a + ctx + 1] for a in starts])

        (xtr, ytr), (xte, yte) = windows(ids[:cut]), windows(ids[cut:])
        return xtr, ytr, xte, yte, len(vocab), ctx
    path = d.get("path", "/usr/share/datasets/fashion-mnist")

    def idx(name):
        with gzip.open(f"{path}/{name}.gz", "rb") as f:
            b = f.read()
        dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(b[3])]
        return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * b[3]).reshape(dims)

    norm = d.get("normalize", {"mean": 0.0, "std": 1.0})

    def images(name):
        return (torch.from_numpy(idx(name).astype(np.float32) / 255.0).unsqueeze(1) - norm["mean"]) / norm["std"]

    xtr, xte = images("train-images-idx3-ubyte"), images("t10k-images-idx3-ubyte")
    ytr = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
    yte = torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))
    return xtr, ytr, xte, yte, 10, None


def build(cfg, xtr, vocab, ctx):
    net, _ = layers(cfg["model"], xtr[:2], vocab, ctx)
    return net


def optimizer(cfg, net):
    o = cfg["optimizer"]
    if o["name"] == "adam":
        return torch.optim.Adam(net.parameters(), lr=o["lr"], weight_decay=o.get("weight_decay", 0.0))
    if o["name"] == "sgd":
        return torch.optim.SGD(net.parameters(), lr=o["lr"], momentum=o.get("momentum", 0.0),
                               nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay", 0.0))
    raise SystemExit(f"torch_from_config: optimizer {o['name']} not written here")


def loss_of(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def evaluate(net, x, y):
    net.eval()
    total, correct, count = 0.0, 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            out = net(x[i:i + 500])
            total += loss_of(out, y[i:i + 500]).item() * len(x[i:i + 500])
            correct += (out.argmax(-1) == y[i:i + 500]).float().mean(dim=-1).sum().item() if y.dim() > 1 else \
                (out.argmax(-1) == y[i:i + 500]).float().sum().item()
            count += len(x[i:i + 500])
    net.train()
    return total / count, correct / count


def state(net):
    return {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}


def cmd_load(cfg, checkpoint):
    xtr, ytr, xte, yte, vocab, ctx = data(cfg)
    net = build(cfg, xtr, vocab, ctx)
    weights = load_file(checkpoint + "/model.safetensors")
    net.load_state_dict(weights, strict=True)
    loss, acc = evaluate(net, xte, yte)
    print(json.dumps({"checkpoint": checkpoint, "strict_load": "ok", "tensors": len(weights),
                      "test_loss": round(loss, 5), "test_accuracy": round(acc, 5)}))


def cmd_steps(cfg, out_dir, steps, bf16=False, init=None):
    torch.manual_seed(cfg.get("seed", 1))
    xtr, ytr, xte, yte, vocab, ctx = data(cfg)
    net = build(cfg, xtr, vocab, ctx)
    if init:
        net.load_state_dict(load_file(init), strict=True)
    else:
        save_file(state(net), out_dir + "/init.safetensors")
    opt = optimizer(cfg, net)
    b = cfg["train"]["batch_size"]
    for k in range(steps):
        opt.zero_grad()
        # --bf16: PyTorch's CPU mixed precision, as Tandem's train.precision: bf16 mirrors it.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(xtr[k * b:(k + 1) * b])
        loss_of(out.float(), ytr[k * b:(k + 1) * b]).backward()
        opt.step()
    save_file(state(net), out_dir + ("/after-bf16.safetensors" if bf16 else "/after.safetensors"))
    print(json.dumps({"steps": steps, "tensors": len(state(net)), "out": out_dir}))


def augment(x, flip, pad, g):
    if flip:
        m = torch.rand(len(x), generator=g) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(3), x)
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad))
        dx, dy = torch.randint(-pad, pad + 1, (2, len(x)), generator=g)
        h, w = x.shape[2], x.shape[3]
        x = torch.stack([padded[i, :, pad + dy[i]:pad + dy[i] + h, pad + dx[i]:pad + dx[i] + w] for i in range(len(x))])
    return x


def cmd_recipe(cfg, epochs, init=None):
    seed = cfg.get("seed", 1)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    xtr, ytr, xte, yte, vocab, ctx = data(cfg)
    net = build(cfg, xtr, vocab, ctx)
    if init:  # start from given weights (a Tandem checkpoint's, say) instead of PyTorch's draw
        net.load_state_dict(load_file(init), strict=True)
    opt = optimizer(cfg, net)
    o, t, a = cfg["optimizer"], cfg["train"], cfg["data"].get("augment", {})
    b = t["batch_size"]
    epochs = epochs or t["epochs"]
    per_epoch = len(xtr) // b
    total = per_epoch * epochs
    warmup = o.get("warmup_steps", 0)
    base = o["lr"]

    def lr(step):  # Tandem's schedules (LRSchedule.swift)
        if o.get("schedule", "constant") == "constant":
            return base
        if step < warmup:
            return base * (step + 1) / warmup
        span = max(total - warmup, 1)
        return 0.5 * base * (1 + math.cos(math.pi * min(step - warmup, span) / span))

    g = torch.Generator().manual_seed(seed)
    step, start = 0, time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for k in range(per_epoch):
            ids = perm[k * b:(k + 1) * b]
            x = xtr[ids]
            if x.dim() == 4:
                x = augment(x, a.get("horizontal_flip", False), a.get("crop_padding", 0), g)
            for group in opt.param_groups:
                group["lr"] = lr(step)
            opt.zero_grad()
            loss_of(net(x), ytr[ids]).backward()
            opt.step()
            step += 1
        loss, acc = evaluate(net, xte, yte)
        print(json.dumps({"peer": "pytorch-" + torch.__version__, "config": cfg["name"], "epoch": epoch + 1,
                          "test_loss": round(loss, 5), "test_accuracy": round(acc, 5),
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd, cfg = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
    if cmd == "load":
        cmd_load(cfg, sys.argv[3])
    elif cmd == "steps":
        rest = sys.argv[5:]
        init = rest[rest.index("--init") + 1] if "--init" in rest else None
        cmd_steps(cfg, sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 20, "--bf16" in rest, init)
    elif cmd == "recipe":
        opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        cmd_recipe(cfg, int(opts["--epochs"]) if "--epochs" in opts else None, opts.get("--init"))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
