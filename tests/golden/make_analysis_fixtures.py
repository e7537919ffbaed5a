#!/usr/bin/env python3
"""Generate ``analyses.safetensors``: PyTorch references for the invariance and
correspondence analyses (include/convis/analysis/{transforms,invariance,
correspondence}.hpp), checked by tests/test_analyses.cpp.

How to run
----------
From the repository root::

    /usr/bin/python3 tests/golden/make_analysis_fixtures.py

Needs PyTorch and NumPy; the writer is ``make_fixtures.py``'s.  Seeded, one
thread: a re-run gives the same file.  Parameters and inputs are drawn in
float64 and rounded to float32; every reference is computed in float64 from
those values and stored as F32 (the usual golden convention, README.md).

The network (input 1x16x16), mirrored in the test as a convis::Sequential with
the same layer names::

    conv1 Conv2d(1,4,3,p1) relu1 pool1 MaxPool2d(2) conv2 Conv2d(4,6,3,p1)
    relu2 pool2 MaxPool2d(2) flatten fc6 Linear(96,24) relu6 fc7 Linear(24,16)
    relu7 fc8 Linear(16,3)

What is computed
----------------
* Transforms: ``grid_sample(x - fill, affine_grid(theta), bilinear, zeros,
  align_corners=False) + fill`` on a 2x12x16 image (non-square, so rotation's
  aspect factors matter), fill 0.5, for translate / scale / rotate values
  including fractional ones and ones that push the content out entirely.
  theta: translate v -> [[1,0,0],[0,1,-2v/H]]; scale s -> [[1/s,0,0],[0,1/s,0]];
  rotate a deg -> [[cos a, -sin a*H/W, 0], [sin a*W/H, cos a, 0]].
  Checked here against independent definitions: an integer downward shift, and
  torch.rot90 (counter-clockwise on screen) for 90 degrees on a square image.
* Invariance, for each kind with the default values for 16 rows and the
  default layers (pool1 = "layer 1", relu7 = "layer 7"), fill 0: per layer,
  image and value, ||f(x) - f(T(x))||_2; softmax probability of the true label;
  argmax class.  One custom case (rotate, other values, layers relu2 and fc8,
  fill 0.25).
* Correspondence for one box per image (fill 0, layers pool2 and relu7; and a
  second case, fill 0.7, layers conv2 and relu6): eps_i = f(x_i) - f(masked
  x_i), d_ij = fraction of dimensions with sign(eps_i) != sign(eps_j) (sign(0)
  = 0) for i < j, their mean and population std.  Each image runs alone, so a
  unit whose receptive field misses the box gives eps exactly 0.

Margins asserted so that float32 in C++ cannot flip a result: in the
correspondence forwards no pre-ReLU value within 1e-5 (relative) of 0 and every
nonzero eps above 1e-5 (relative); the top two probabilities of every
prediction at least 1e-4 apart.

Tensors (F32 unless noted; metadata values are strings)
-------------------------------------------------------
``<layer>.weight``, ``<layer>.bias``; ``x`` [4,1,16,16]; ``labels`` I64 [4];
``tf.x`` [2,12,16]; ``tf.<kind>`` [V,2,12,16] with metadata
``tf.<kind>.values`` (space-separated reprs) and ``tf.fill``;
``inv.<case>.distance`` [L,4,V], ``inv.<case>.probability`` [4,V],
``inv.<case>.predicted`` I64 [4,V] for case in translate, scale, rotate, custom,
with metadata ``inv.<case>.values``, ``inv.<case>.layers``, ``inv.<case>.fill``;
``corr.<case>.pairs`` [L,6], ``corr.<case>.mean`` [L], ``corr.<case>.std`` [L]
for case in a, b, with metadata ``corr.<case>.boxes`` ("y,x,h,w;..."),
``corr.<case>.layers``, ``corr.<case>.fill``.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import meta_str, write_safetensors  # noqa: E402

DT = torch.float64
LAYERS = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten",
          "fc6", "relu6", "fc7", "relu7", "fc8"]
H = W = 16
N = 4
CLASSES = 3


def f32(t):
    return t.to(torch.float32).to(DT)


def randn(*shape, scale=1.0):
    return f32(torch.randn(*shape, dtype=DT) * scale)


def make_params():
    P = {}
    for name, shape in [("conv1", (4, 1, 3, 3)), ("conv2", (6, 4, 3, 3)),
                        ("fc6", (24, 96)), ("fc7", (16, 24)), ("fc8", (3, 16))]:
        fan_in = math.prod(shape[1:])
        gain = 1.0 if name == "fc8" else 2.0
        P[name + ".weight"] = randn(*shape, scale=math.sqrt(gain / fan_in))
        P[name + ".bias"] = randn(shape[0], scale=0.05)
    return P


PRE_RELU = []  # every pre-ReLU tensor seen, for the margin check


def forward(x, P):
    outs = {}
    h = x
    for name in LAYERS:
        if name.startswith("conv"):
            h = F.conv2d(h, P[name + ".weight"], P[name + ".bias"], padding=1)
        elif name.startswith("relu"):
            PRE_RELU.append(h)
            h = F.relu(h)
        elif name.startswith("pool"):
            h = F.max_pool2d(h, 2)
        elif name == "flatten":
            h = h.flatten(1)
        else:
            h = F.linear(h, P[name + ".weight"], P[name + ".bias"])
        outs[name] = h
    return outs


def theta_of(kind, v, h, w):
    if kind == "translate":
        return [[1.0, 0.0, 0.0], [0.0, 1.0, -2.0 * v / h]]
    if kind == "scale":
        return [[1.0 / v, 0.0, 0.0], [0.0, 1.0 / v, 0.0]]
    a = math.radians(v)
    return [[math.cos(a), -math.sin(a) * h / w, 0.0], [math.sin(a) * w / h, math.cos(a), 0.0]]


def transform(x, kind, v, fill):
    """x: [N,C,H,W] float64."""
    n, c, h, w = x.shape
    theta = torch.tensor(theta_of(kind, v, h, w), dtype=DT).expand(n, 2, 3)
    grid = F.affine_grid(theta, (n, c, h, w), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + fill


def default_values(kind, height):
    if kind == "translate":
        return [k * 10.0 * height / 224.0 for k in range(-6, 7)]
    if kind == "scale":
        return [1.0 + k / 10.0 for k in range(0, 9)]
    return [10.0 * k for k in range(36)]


def reprs(values):
    return " ".join(repr(float(v)) for v in values)


def check_transforms():
    torch.manual_seed(5)
    x = torch.randn(1, 2, 9, 9, dtype=DT)
    # an integer downward shift: rows move down, the top rows take the fill
    want = torch.full_like(x, 0.5)
    want[:, :, 2:, :] = x[:, :, :-2, :]
    assert (transform(x, "translate", 2.0, 0.5) - want).abs().max() < 1e-12
    # 90 degrees counter-clockwise on screen is torch.rot90 over (rows, columns)
    assert (transform(x, "rotate", 90.0, 0.5) - torch.rot90(x, 1, (2, 3))).abs().max() < 1e-12
    # scale 1 and rotate 0 are the identity
    assert (transform(x, "scale", 1.0, 0.5) - x).abs().max() < 1e-12
    assert (transform(x, "rotate", 0.0, 0.5) - x).abs().max() < 1e-12


def assert_prob_margin(p):
    top = torch.topk(p, 2, dim=-1).values
    gap = (top[..., 0] - top[..., 1]).min().item()
    assert gap > 1e-4, f"argmax too close to call: {gap}"


def invariance(x, labels, P, kind, values, layers, fill):
    ref = forward(x, P)
    L, V = len(layers), len(values)
    dist = torch.zeros(L, N, V, dtype=DT)
    prob = torch.zeros(N, V, dtype=DT)
    pred = torch.zeros(N, V, dtype=torch.int64)
    for vi, v in enumerate(values):
        out = forward(transform(x, kind, v, fill), P)
        p = torch.softmax(out["fc8"], dim=1)
        assert_prob_margin(p)
        for li, name in enumerate(layers):
            dist[li, :, vi] = (out[name] - ref[name]).flatten(1).norm(dim=1)
        prob[:, vi] = p[torch.arange(N), labels]
        pred[:, vi] = p.argmax(dim=1)
    return dist, prob, pred


def correspondence(x, P, boxes, layers, fill):
    L = len(layers)
    eps = [[None] * N for _ in layers]
    for i, (y0, x0, bh, bw) in enumerate(boxes):
        xi = x[i:i + 1]
        masked = xi.clone()
        masked[:, :, y0:y0 + bh, x0:x0 + bw] = fill
        a, b = forward(xi, P), forward(masked, P)
        for li, name in enumerate(layers):
            e = (a[name] - b[name]).flatten()
            scale = a[name].abs().max().item()
            nz = e[e != 0].abs()
            assert nz.numel() == 0 or nz.min().item() > 1e-5 * scale, (name, i, nz.min().item(), scale)
            eps[li][i] = e
    pairs = torch.zeros(L, N * (N - 1) // 2, dtype=DT)
    for li in range(L):
        k = 0
        for i in range(N):
            for j in range(i + 1, N):
                si, sj = torch.sign(eps[li][i]), torch.sign(eps[li][j])
                pairs[li, k] = (si != sj).to(DT).mean()
                k += 1
    mean = pairs.mean(dim=1)
    std = pairs.std(dim=1, unbiased=False)
    return pairs, mean, std


def main():
    torch.set_num_threads(1)
    check_transforms()
    torch.manual_seed(20140812)
    P = make_params()
    x = randn(N, 1, H, W)
    labels = torch.randint(0, CLASSES, (N,), dtype=torch.int64)
    tensors = dict(P)
    tensors["x"] = x
    tensors["labels"] = labels
    meta = {"kind": "analyses", "layers": " ".join(LAYERS)}

    # transforms on a non-square, two-channel image
    tf_x = randn(2, 12, 16)
    tensors["tf.x"] = tf_x
    meta["tf.fill"] = "0.5"
    tf_values = {
        "translate": [-3.0, -0.375, 0.0, 1.5, 2.3, 13.0],
        "scale": [0.7, 1.0, 1.3, 1.8],
        "rotate": [0.0, 30.0, 90.0, 200.0, -45.0, 17.5],
    }
    for kind, values in tf_values.items():
        tensors["tf." + kind] = torch.cat([transform(tf_x[None], kind, v, 0.5) for v in values])
        meta["tf." + kind + ".values"] = reprs(values)

    # invariance
    idx = {name: i for i, name in enumerate(LAYERS)}
    cases = {k: (k, default_values(k, H), ["pool1", "relu7"], 0.0) for k in ("translate", "scale", "rotate")}
    cases["custom"] = ("rotate", [0.0, 45.0, 135.0, 270.5], ["relu2", "fc8"], 0.25)
    for case, (kind, values, layers, fill) in cases.items():
        dist, prob, pred = invariance(x, labels, P, kind, values, layers, fill)
        tensors[f"inv.{case}.distance"] = dist
        tensors[f"inv.{case}.probability"] = prob
        tensors[f"inv.{case}.predicted"] = pred
        meta[f"inv.{case}.kind"] = kind
        meta[f"inv.{case}.values"] = reprs(values)
        meta[f"inv.{case}.layers"] = " ".join(str(idx[n]) for n in layers)
        meta[f"inv.{case}.fill"] = repr(fill)
        print(f"inv.{case}: distance max {dist.max().item():.4f}, p(true) "
              f"{prob.min().item():.3f}..{prob.max().item():.3f}, predicted {sorted(set(pred.flatten().tolist()))}")

    # correspondence
    PRE_RELU.clear()  # the ReLU margin matters where signs are compared
    corr = {
        "a": ([(2, 3, 5, 5), (4, 6, 5, 5), (1, 1, 6, 4), (9, 7, 5, 6)], ["pool2", "relu7"], 0.0),
        "b": ([(0, 0, 4, 4), (10, 9, 6, 7), (5, 5, 3, 8), (6, 2, 4, 4)], ["conv2", "relu6"], 0.7),
    }
    for case, (boxes, layers, fill) in corr.items():
        pairs, mean, std = correspondence(x, P, boxes, layers, fill)
        tensors[f"corr.{case}.pairs"] = pairs
        tensors[f"corr.{case}.mean"] = mean
        tensors[f"corr.{case}.std"] = std
        meta[f"corr.{case}.boxes"] = ";".join(",".join(str(v) for v in b) for b in boxes)
        meta[f"corr.{case}.layers"] = " ".join(str(idx[n]) for n in layers)
        meta[f"corr.{case}.fill"] = repr(fill)
        print(f"corr.{case}: mean {mean.tolist()} std {std.tolist()}")

    # no ReLU input of a correspondence forward so close to 0 that float32 could put it on the
    # other side (an exact 0 in eps would become a tiny nonzero)
    for z in PRE_RELU:
        scale = z.abs().max().item()
        assert z.abs().min().item() > 1e-5 * scale, ("pre-ReLU value near 0", z.abs().min().item(), scale)

    write_safetensors("analyses.safetensors", tensors, meta_str(meta))
    size = os.path.getsize(os.path.join(HERE, "analyses.safetensors"))
    print(f"wrote analyses.safetensors: {len(tensors)} tensors, {size} bytes")


if __name__ == "__main__":
    sys.exit(main())
