"""PyTorch's CPU autocast (torch.autocast("cpu", torch.bfloat16)) on a few products, for
Tests/TensorTests/BF16Tests.swift: inputs, the bf16 output (widened to float32) and the float32
leaf gradients of sum(output * r). Not run by the tests (they read torch_bf16.json).

    /tmp/torch-venv/bin/python Tests/Fixtures/make_torch_bf16.py > Tests/Fixtures/torch_bf16.json
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(7)


def case(f, *shapes):
    xs = [torch.randn(*s, dtype=torch.float32, requires_grad=True) for s in shapes]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = f(*xs)
    r = torch.randn(y.shape)
    (y.float() * r).sum().backward()
    flat = lambda t: [round(v, 8) for v in t.detach().float().reshape(-1).tolist()]
    return {"inputs": [{"shape": list(x.shape), "values": flat(x)} for x in xs], "upstream": flat(r),
            "output": {"shape": list(y.shape), "values": flat(y), "dtype": str(y.dtype)},
            "grads": [flat(x.grad) for x in xs]}


cases = {
    "matmul": case(torch.matmul, (8, 40), (40, 12)),
    "linear": case(lambda x, w, b: F.linear(x, w, b), (16, 64), (24, 64), (24,)),
    "conv2d": case(lambda x, w: F.conv2d(x, w, padding=1), (2, 4, 10, 10), (6, 4, 3, 3)),
    "torch_version": torch.__version__,
}
print(json.dumps(cases))
