#!/usr/bin/env python3
"""Generate the deconvnet golden fixture ``deconv_tinyzf.safetensors``.

How to run
----------
From the repository root, after ``make_fixtures.py`` has written
``tinyzf.safetensors``::

    /usr/bin/python3 tests/golden/make_deconv_fixtures.py

Needs PyTorch and NumPy.  The input ``x`` and the 16 parameters are read from
``tinyzf.safetensors`` (not regenerated), converted to float64, and every
projection is computed in float64 and stored as F32.  The file format and the
writer are those of ``make_fixtures.py`` (imported from there).

What is computed
----------------
One forward pass through the tiny ZFNet (eval mode), recording each layer's
output and each max-pool's indices.  For a chosen layer L and channel c, the
signal S is zero except, per image n, at the first maximum (row-major) of
A[n, c] (A = output of L), where it equals that activation.  S is then walked
down from L (inclusive) to the input with explicit per-layer rules:

* Conv2d:   transposed convolution with the same weights, no bias, cropped /
            padded to the input's exact size (``torch.nn.grad.conv2d_input``).
* MaxPool2d: unpool through the recorded indices; overlapping windows that
            picked the same input position ADD (scatter_add).
* ReLU:     deconvnet: relu(g); guided: relu(g) * (fwd out > 0);
            gradient: g * (fwd out > 0).
* LRN:      guided / gradient: true LRN backward (VJP at the recorded input);
            deconvnet: identity (skipped, as in the paper).
* Flatten:  reshape back.  Dropout: identity.  Linear: g @ W (no bias).

The "gradient" mode walk is checked against autograd's d sum(A*S)/dx.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import LAYER_NAMES, meta_str, write_safetensors  # noqa: E402

DT = torch.float64

# layer name -> (op, args)
ARCH = {
    "conv1": ("conv", 2, 1), "relu1": ("relu",), "pool1": ("pool",), "norm1": ("lrn",),
    "conv2": ("conv", 2, 0), "relu2": ("relu",), "pool2": ("pool",), "norm2": ("lrn",),
    "conv3": ("conv", 1, 1), "relu3": ("relu",), "conv4": ("conv", 1, 1),
    "relu4": ("relu",), "conv5": ("conv", 1, 1), "relu5": ("relu",), "pool5": ("pool",),
    "flatten": ("flatten",), "drop6": ("drop",), "fc6": ("linear",), "relu6": ("relu",),
    "drop7": ("drop",), "fc7": ("linear",), "relu7": ("relu",), "fc8": ("linear",),
}
assert list(ARCH) == LAYER_NAMES

LRN_ARGS = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)

# (layer, channel) cases.  relu7 uses unit 5: unit 4 is dead (0) in both
# images, so its projection would be all zero.
# Four layers keep the file small (~4 MB): a pool over two LRNs, an LRN output, a ReLU and a class score.
CASES = [("pool2", 3), ("norm2", 3), ("relu5", 5), ("fc8", 7)]
MODES = ["deconvnet", "guided", "gradient"]


def read_tinyzf(path):
    """Tiny safetensors reader: 8-byte LE header length, JSON, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("ascii"))
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        np_dt = {"F32": "<f4", "I64": "<i8"}[e["dtype"]]
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:end], dtype=np_dt).reshape(e["shape"]).copy())
    return out


def lrn(x):
    return F.local_response_norm(x, **LRN_ARGS)


def forward(x, P):
    """Returns (inputs, outputs, pool indices) per layer name."""
    ins, outs, inds = {}, {}, {}
    h = x
    for name in LAYER_NAMES:
        op = ARCH[name]
        ins[name] = h
        if op[0] == "conv":
            h = F.conv2d(h, P[name + ".weight"], P[name + ".bias"], stride=op[1], padding=op[2])
        elif op[0] == "relu":
            h = F.relu(h)
        elif op[0] == "pool":
            h, inds[name] = F.max_pool2d(h, 3, 2, ceil_mode=True, return_indices=True)
        elif op[0] == "lrn":
            h = lrn(h)
        elif op[0] == "flatten":
            h = h.flatten(1)
        elif op[0] == "drop":
            pass
        elif op[0] == "linear":
            h = F.linear(h, P[name + ".weight"], P[name + ".bias"])
        outs[name] = h
    return ins, outs, inds


def select(A, c):
    """Signal S and selection (channel, y, x) per image: first max of A[n, c]."""
    S = torch.zeros_like(A)
    sel = torch.zeros(A.shape[0], 3, dtype=torch.int64)
    for n in range(A.shape[0]):
        if A.dim() == 4:
            plane = A[n, c].detach().numpy()
            i = int(np.argmax(plane))  # numpy: first occurrence on ties
            yy, xx = divmod(i, plane.shape[1])
            S[n, c, yy, xx] = A[n, c, yy, xx]
            sel[n] = torch.tensor([c, yy, xx])
        else:
            S[n, c] = A[n, c]
            sel[n] = torch.tensor([c, 0, 0])
    return S, sel


def walk(S, layer, mode, ins, outs, inds, P, lrn_backward):
    """Project S (living at `layer`'s output) down to pixel space."""
    g = S
    for name in reversed(LAYER_NAMES[:LAYER_NAMES.index(layer) + 1]):
        op = ARCH[name]
        xin = ins[name]
        if op[0] == "conv":
            g = torch.nn.grad.conv2d_input(xin.shape, P[name + ".weight"], g,
                                           stride=op[1], padding=op[2])
        elif op[0] == "relu":
            pos = (outs[name] > 0).to(DT)
            if mode == "deconvnet":
                g = F.relu(g)
            elif mode == "guided":
                g = F.relu(g) * pos
            else:
                g = g * pos
        elif op[0] == "pool":
            N, C, H, W = xin.shape
            idx = inds[name].flatten(2)
            g = torch.zeros(N, C, H * W, dtype=DT).scatter_add_(2, idx, g.flatten(2))
            g = g.view(N, C, H, W)
        elif op[0] == "lrn":
            if lrn_backward:
                xr = xin.detach().clone().requires_grad_()
                (g,) = torch.autograd.grad(lrn(xr), xr, g)
        elif op[0] == "flatten":
            g = g.view(xin.shape)
        elif op[0] == "drop":
            pass
        elif op[0] == "linear":
            g = g @ P[name + ".weight"]
        assert g.shape == xin.shape, (name, g.shape, xin.shape)
    return g.detach()


def main():
    torch.set_num_threads(1)
    T = read_tinyzf(os.path.join(HERE, "tinyzf.safetensors"))
    P = {k: v.to(DT) for k, v in T.items()
         if not k.startswith("grad.") and (k.endswith(".weight") or k.endswith(".bias"))}
    assert len(P) == 16, sorted(P)
    x = T["x"].to(DT).requires_grad_()

    ins, outs, inds = forward(x, P)
    # sanity: the forward pass matches the stored one (stored as F32)
    for name in LAYER_NAMES:
        ref = T["out." + name].to(DT)
        err = (outs[name].detach() - ref).abs().max().item()
        assert err <= 1e-5 * max(1.0, ref.abs().max().item()), (name, err)

    tensors = {}
    meta = {"kind": "deconvnet", "batch": 2, "C": 3, "H": 112, "W": 112,
            "layers": " ".join(l for l, _ in CASES), "modes": " ".join(MODES),
            "lrn": "size=5 alpha=1e-4 beta=0.75 k=2",
            "extra": "deconvnet_lrn.pool2"}

    def store(key, proj):
        m = proj.abs().max().item()
        per_img = [proj[n].abs().max().item() for n in range(proj.shape[0])]
        print(f"  proj.{key:22s} max|v|={m:.6e} per image={per_img[0]:.3e},{per_img[1]:.3e}")
        assert m > 0, key
        tensors["proj." + key] = proj

    for layer, c in CASES:
        A = outs[layer]
        S, sel = select(A.detach(), c)
        tensors["sel." + layer] = sel
        meta["channel." + layer] = c
        print(f"{layer} channel {c}: sel={sel.tolist()} "
              f"values={[S[n].abs().max().item() for n in range(2)]}")
        for mode in MODES:
            proj = walk(S, layer, mode, ins, outs, inds, P,
                        lrn_backward=(mode != "deconvnet"))
            if mode == "gradient":
                (ref,) = torch.autograd.grad((A * S).sum(), x, retain_graph=True)
                rel = (proj - ref).abs().max().item() / ref.abs().max().item()
                print(f"  gradient vs autograd: rel err {rel:.3e}")
                assert rel <= 1e-10, (layer, rel)
            store(f"{mode}.{layer}", proj)

    # LRN option checks
    S, _ = select(outs["pool2"].detach(), 3)
    store("deconvnet_lrn.pool2",
          walk(S, "pool2", "deconvnet", ins, outs, inds, P, lrn_backward=True))

    write_safetensors("deconv_tinyzf.safetensors", tensors, meta_str(meta))
    size = os.path.getsize(os.path.join(HERE, "deconv_tinyzf.safetensors"))
    print(f"wrote deconv_tinyzf.safetensors: {len(tensors)} tensors, {size} bytes")


if __name__ == "__main__":
    sys.exit(main())
