"""Peer anchor: PyTorch CPU on Fashion-MNIST, the same workloads the project's benchmark runs.

usage: python torch_fashion.py MODEL [--threads N] [--epochs E] [--batch B] [--ddp] [--bf16]

Tandem's copy of ../shared/peers/torch_fashion.py, with --bf16: forward and loss inside
torch.autocast("cpu", torch.bfloat16) (PyTorch's mixed precision on CPU; fp32 master weights).
MODEL: mlp (784-128-10, dropout 0.2, the seeds' model), wide (784-1024-1024-10), cnn (2 conv+pool, 128 dense),
       resnet (BN ResNet: stem 16, residual stages 16/32/64 with stride-2 1x1 shortcuts, global average pool),
       transformer (character-level causal LM on /usr/share/dict/american-english from Debian's wamerican:
       context 64, d 128, 4 heads, ff 512, 2 pre-norm GELU layers; samples = windows of 64 characters)
With --ddp, run under torchrun-free env (RANK/WORLD_SIZE set by mpirun or by hand) using gloo.
Prints one JSON line per epoch: samples/s for the training loop only (data already in memory), test accuracy.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

D = "/usr/share/datasets/fashion-mnist"
def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

class Residual(nn.Module):
    """body(x) + shortcut(x); children named body and shortcut, as Tandem's `residual` entry."""
    def __init__(self, body, shortcut=None):
        super().__init__(); self.body = body; self.shortcut = shortcut if shortcut is not None else nn.Sequential()
    def forward(self, x): return self.body(x) + self.shortcut(x)

class GlobalAvgPool(nn.Module):
    def forward(self, x): return x.mean(dim=(2, 3))

class Positional(nn.Module):
    def __init__(self, ctx, dim):
        super().__init__(); self.weight = nn.Parameter(torch.randn(ctx, dim) * 0.02)
    def forward(self, x): return x + self.weight[: x.shape[1]]

class Causal(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__(); self.layer = nn.TransformerEncoderLayer(d, h, ff, 0.0, activation="gelu", batch_first=True, norm_first=True)
    def forward(self, x):
        T = x.shape[1]
        return self.layer(x, src_mask=torch.triu(torch.full((T, T), float("-inf")), diagonal=1), is_causal=True)

CTX, WORDS = 64, "/usr/share/dict/american-english"
def text_data():
    s = open(WORDS, encoding="utf-8").read()
    vocab = sorted(set(s)); stoi = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([stoi[c] for c in s]); cut = int(0.9 * len(ids))
    def win(t):
        n = (len(t) - 1 - CTX) // CTX + 1
        return (torch.stack([t[k * CTX:k * CTX + CTX] for k in range(n)]), torch.stack([t[k * CTX + 1:k * CTX + CTX + 1] for k in range(n)]))
    return win(ids[:cut]), win(ids[cut:]), len(vocab)

def model(name, vocab=0):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    if name == "wide":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "resnet":
        c = lambda i, o, k=3, st=1, p=1: nn.Conv2d(i, o, k, st, p, bias=False)
        def block(i, o, st):
            body = nn.Sequential(c(i, o, st=st), nn.BatchNorm2d(o), nn.ReLU(), c(o, o), nn.BatchNorm2d(o))
            return Residual(body, None if st == 1 and i == o else nn.Sequential(c(i, o, 1, st, 0), nn.BatchNorm2d(o)))
        return nn.Sequential(c(1, 16), nn.BatchNorm2d(16), nn.ReLU(), block(16, 16, 1), nn.ReLU(), block(16, 32, 2), nn.ReLU(),
                             block(32, 64, 2), nn.ReLU(), GlobalAvgPool(), nn.Linear(64, 10))
    if name == "transformer":
        return nn.Sequential(nn.Embedding(vocab, 128), Positional(CTX, 128), Causal(128, 4, 512), Causal(128, 4, 512),
                             nn.LayerNorm(128), nn.Linear(128, vocab))
    raise SystemExit("unknown model " + name)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("model"); p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1); p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--ddp", action="store_true")
    p.add_argument("--steps", type=int, default=0, help="train on only steps x batch samples per rank (speed runs)")
    p.add_argument("--bf16", action="store_true", help="torch.autocast('cpu', torch.bfloat16) around forward and loss")
    a = p.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    rank, world = 0, 1
    if a.ddp:
        rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("RANK", 0)))
        world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("WORLD_SIZE", 1)))
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1"); os.environ.setdefault("MASTER_PORT", "29513")
        torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    vocab = 0
    if a.model == "transformer":
        (xtr, ytr), (xte, yte), vocab = text_data()
    else:
        xtr = torch.from_numpy(idx(f"{D}/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
        ytr = torch.from_numpy(idx(f"{D}/train-labels-idx1-ubyte.gz").astype(np.int64))
        xte = torch.from_numpy(idx(f"{D}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
        yte = torch.from_numpy(idx(f"{D}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if a.steps: xtr, ytr = xtr[:a.steps * a.batch * (int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1)) if a.ddp else 1)], ytr[:len(xtr)]
    net = model(a.model, vocab)
    if a.ddp:
        net = nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    n = xtr.shape[0]
    per_rank = n // world
    for epoch in range(a.epochs):
        g = torch.Generator().manual_seed(epoch)
        perm = torch.randperm(n, generator=g)[rank * per_rank:(rank + 1) * per_rank]
        net.train(); t = time.perf_counter(); seen = 0; tot = 0.0
        for i in range(0, per_rank - a.batch + 1, a.batch):
            b = perm[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                out = net(xtr[b])
                loss = F.cross_entropy(out.reshape(-1, out.shape[-1]).float(), ytr[b].reshape(-1))
            loss.backward(); opt.step()
            seen += a.batch; tot += loss.item()
        dt = time.perf_counter() - t
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 1000]).argmax(-1) == yte[i:i + 1000]).float().sum().item() for i in range(0, len(xte), 1000)) / yte.numel()
        if rank == 0:
            print(json.dumps({"peer": "pytorch-" + torch.__version__, "model": a.model, "threads": a.threads, "world": world,
                              "precision": "bf16" if a.bf16 else "fp32",
                              "batch": a.batch, "epoch": epoch + 1, "train_s": round(dt, 3),
                              "samples_per_s": round(seen * world / dt, 1), "test_acc": round(acc, 4)}), flush=True)
    if a.ddp:
        torch.distributed.destroy_process_group()

if __name__ == "__main__":
    main()
