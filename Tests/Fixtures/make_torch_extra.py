"""Golden values from PyTorch (float64) for the ops that ../shared/fixtures/torch_reference.json
does not cover. Same layout as that file (see its README). Not part of the tests: the JSON is
data. Regenerate with: /tmp/torch-venv/bin/python Tests/Fixtures/make_torch_extra.py"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(1)
D = torch.float64

def T(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}

def away(shape, lo=0.2):      # values away from 0 (kinks)
    x = torch.rand(shape, dtype=D) * 1.8 + lo
    return x * torch.where(torch.rand(shape, dtype=D) < 0.5, -1.0, 1.0)

def positive(shape):
    return torch.rand(shape, dtype=D) * 1.5 + 0.5

def distinct(shape):          # no ties for max/pool
    n = 1
    for s in shape: n *= s
    return (torch.randperm(n).to(D) * 0.1 - n * 0.05).reshape(shape)

cases = []
def case(name, f, inputs, attrs=None):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = f(*xs)
    cot = torch.rand(y.shape, dtype=D) * 2 - 1
    grads = torch.autograd.grad((y * cot).sum(), xs, allow_unused=True)
    cases.append({"kind": "op", "name": name, "attrs": attrs or {}, "inputs": [T(x) for x in inputs],
                  "output": T(y), "cotangent": T(cot),
                  "input_grads": [T(g if g is not None else torch.zeros_like(x)) for g, x in zip(grads, inputs)]})

case("sub_broadcast_row", lambda a, b: a - b, [away((5, 4)), away((4,))])
case("add_broadcast_col", lambda a, b: a + b, [away((3, 4)), away((3, 1))])
case("mul_broadcast_general", lambda a, b: a * b, [away((2, 3, 4)), away((3, 1))])
case("div_broadcast_row", lambda a, b: a / b, [away((3, 4)), positive((4,))])
case("sqrt", torch.sqrt, [positive((5, 4))])
case("pow_2_5", lambda x: x.pow(2.5), [positive((5, 4))])
case("clamp_m1_0_5", lambda x: x.clamp(-1.0, 0.5), [away((5, 4))])
case("sum_all", lambda x: x.sum(), [away((3, 4))])
case("sum_axes_0_2", lambda x: x.sum(dim=(0, 2)), [away((2, 3, 4))])
case("mean_axis1_keepdim", lambda x: x.mean(dim=1, keepdim=True), [away((2, 3, 4))])
case("max_axis1", lambda x: x.max(dim=1).values, [distinct((3, 5))])
case("max_all", lambda x: x.max(), [distinct((3, 4))])
case("softmax_axis1_of_3d", lambda x: torch.softmax(x, dim=1), [away((2, 3, 4))])
case("log_softmax_axis0_of_3d", lambda x: torch.log_softmax(x, dim=0), [away((2, 3, 4))])
case("transpose", lambda x: x.t(), [away((3, 4))])
case("permute_2_0_1", lambda x: x.permute(2, 0, 1), [away((2, 3, 4))])
case("slice_rows_1_4", lambda x: x[1:4], [away((5, 3))])
case("slice_axis1_2_5", lambda x: x[:, 2:5, :], [away((2, 6, 3))])
case("concat_axis1", lambda a, b: torch.cat([a, b], dim=1), [away((2, 3)), away((2, 2))])
case("reshape_3_4", lambda x: x.reshape(3, 4) * x.reshape(3, 4), [away((2, 6))])
case("matmul_batched", torch.matmul, [away((2, 3, 4)), away((2, 4, 5))])
case("matmul_shared_right", torch.matmul, [away((2, 3, 4)), away((4, 5))])
mask = (torch.rand((3, 4)) < 0.7).to(D)
case("dropout_mask_p0_25", lambda x: x * mask / 0.75, [away((3, 4))], {"mask": T(mask), "p": 0.25})
case("max_pool2d_k3_s2_p1", lambda x: F.max_pool2d(x, 3, 2, 1), [distinct((1, 2, 5, 5))])
case("avg_pool2d_k3_s2_p1", lambda x: F.avg_pool2d(x, 3, 2, 1), [away((1, 2, 5, 5))])
case("conv2d_rect_s2_p1", lambda x, w: F.conv2d(x, w, None, 2, 1), [away((1, 2, 5, 7)), away((3, 2, 2, 3))])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_extra.json")
json.dump({"generator": f"PyTorch {torch.__version__}, float64, make_torch_extra.py", "seed": 1, "cases": cases}, open(out, "w"))
print(f"{len(cases)} cases -> {out}")
