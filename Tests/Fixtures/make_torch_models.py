"""Golden values from PyTorch (float64) for the layers of the models issue: batch norm (train and
eval, with the running statistics it leaves), layer norm, global average pooling, embedding,
learned positions, multi-head self-attention (with and without the causal mask), the pre-norm
Transformer encoder layer, a residual block and sequence cross-entropy. Same layout as
torch_extra.json, plus "buffers" (tensors a module holds after the pass). Not part of the tests:
the JSON is data. Regenerate with a venv holding torch:
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python Tests/Fixtures/make_torch_models.py"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(12)
D = torch.float64


def T(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def r(*shape):
    return torch.rand(shape, dtype=D) * 4 - 2


cases = []


def case(name, f, inputs, integer=None, buffers=None, attrs=None):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = f(*xs)
    cot = torch.rand(y.shape, dtype=D) * 2 - 1
    grads = torch.autograd.grad((y * cot).sum(), xs, allow_unused=True)
    c = {"kind": "op", "name": name, "attrs": attrs or {}, "inputs": [T(x) for x in inputs],
         "output": T(y), "cotangent": T(cot),
         "input_grads": [T(g if g is not None else torch.zeros_like(x)) for g, x in zip(grads, inputs)]}
    if integer is not None:
        c["integer_inputs"] = [T(integer.to(D))]
    if buffers is not None:
        c["buffers"] = {k: T(v.to(D)) for k, v in buffers().items()}
    cases.append(c)


def batchnorm_case(name, shape, train):
    cls = nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d
    bn = cls(shape[1], momentum=0.1, eps=1e-5).to(D)
    if not train:
        bn.running_mean.copy_(r(shape[1]) * 0.3)
        bn.running_var.copy_(torch.rand(shape[1], dtype=D) + 0.5)
        bn.num_batches_tracked.fill_(7)
        bn.eval()
    before = (bn.running_mean.clone(), bn.running_var.clone())

    def f(x, w, b):
        return F.batch_norm(x, bn.running_mean, bn.running_var, w, b, training=train, momentum=0.1, eps=1e-5)

    case(name, f, [r(*shape), r(shape[1]), r(shape[1])],
         buffers=lambda: {"running_mean_before": before[0], "running_var_before": before[1],
                          "running_mean": bn.running_mean, "running_var": bn.running_var})


batchnorm_case("batchnorm1d_train", (6, 4), True)
batchnorm_case("batchnorm1d_3d_train", (3, 4, 5), True)
batchnorm_case("batchnorm2d_train", (4, 3, 5, 5), True)
batchnorm_case("batchnorm2d_eval", (4, 3, 3, 3), False)

case("layernorm_3d", lambda x, w, b: F.layer_norm(x, (6,), w, b, 1e-5), [r(2, 3, 6), r(6), r(6)])
case("global_avgpool", lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1), [r(2, 3, 4, 5)])

idx = torch.tensor([[0, 3, 3, 6, 1], [3, 2, 0, 3, 5]])
case("embedding_repeated", lambda w: F.embedding(idx, w), [r(7, 4)], integer=idx)
case("positional", lambda x, w: x + w[: x.shape[1]], [r(2, 5, 4), r(8, 4)])


def mha(causal):
    def f(x, wi, bi, wo, bo):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=D) if causal else None
        out, _ = F.multi_head_attention_forward(
            x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), 8, 2, wi, bi, None, None, False, 0.0,
            wo, bo, training=False, need_weights=False, attn_mask=mask)
        return out.transpose(0, 1)
    return f


mha_inputs = [r(2, 5, 8), r(24, 8) * 0.4, r(24) * 0.2, r(8, 8) * 0.4, r(8) * 0.2]
case("attention_full", mha(False), mha_inputs)
case("attention_causal", mha(True), mha_inputs)

layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                   norm_first=True).to(D)
names = [n for n, _ in layer.named_parameters()]
params = [p.detach().clone() + r(*p.shape) * 0.1 for _, p in layer.named_parameters()]


def transformer(x, *ps):
    mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=D)
    return torch.func.functional_call(layer, dict(zip(names, ps)), (x,), {"src_mask": mask, "is_causal": True})


case("transformer_layer_causal", transformer, [r(2, 5, 8)] + params, attrs={"names": names})

case("residual_linear_relu", lambda x, w, b: F.relu(F.linear(x, w, b)) + x, [r(3, 4), r(4, 4) * 0.5, r(4)])
targets = torch.tensor([[1, 0, 6, 6, 2], [3, 3, 5, 0, 1]])
case("sequence_cross_entropy", lambda z: F.cross_entropy(z.reshape(-1, 7), targets.reshape(-1)), [r(2, 5, 7)],
     integer=targets)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_models.json")
with open(out, "w") as fh:
    json.dump({"generator": f"make_torch_models.py with torch {torch.__version__}", "cases": cases}, fh)
print(f"{len(cases)} cases -> {out}")
