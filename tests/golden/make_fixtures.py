#!/usr/bin/env python3
"""Generate the golden test fixtures for convis (ZFNet on Eigen).

How to run
----------
From the repository root::

    /usr/bin/python3 tests/golden/make_fixtures.py

It needs PyTorch and NumPy (Debian's ``python3-torch``); the C++ tests never
do, they only read the files written here.  Every case seeds the generator
with ``torch.manual_seed`` so re-running reproduces byte-identical files (with
the same PyTorch version).  The files are written next to this script, one
``.safetensors`` file per case; ``README.md`` in this directory documents the
cases.

Numerics
--------
Inputs, parameters and upstream gradients are drawn in float64 and rounded to
float32; every reference (forward and backward) is then computed by PyTorch in
float64 from those rounded values, and only the final results are rounded to
float32 for storage.  So stored inputs are exact float32 values, and stored
outputs are the correctly rounded float32 of the float64 result.  Comparisons
in C++ therefore need a tolerance that reflects float32 accumulation only.

File format (safetensors, written by hand here; no ``safetensors`` package)
---------------------------------------------------------------------------
::

    bytes 0..7     N, unsigned 64-bit little-endian: length of the header
    bytes 8..8+N   JSON header, UTF-8 (ASCII in practice), padded with
                   trailing spaces so that N is a multiple of 8
    bytes 8+N..    data section: raw little-endian tensor data, row-major
                   (C order), tensors back to back with no padding between
                   them, in the order of the header entries

The JSON header is one object::

    {"__metadata__": {"kind": "Conv2d", "in": "3", ...},
     "<name>": {"dtype": "F32", "shape": [2, 3, 23, 23],
                "data_offsets": [begin, end]},
     ...}

``data_offsets`` are byte offsets relative to the start of the data section
(``end`` exclusive).  Tensor entries are sorted by name (plain byte-wise string
order) and their data is laid out in that same order.  Because there is no
padding, an I64 tensor's data is not necessarily 8-byte aligned: readers should
memcpy.  dtypes used: ``F32`` (IEEE float32) and ``I64`` (int64).  All
``__metadata__`` values are strings; integers are written in decimal, floats
with Python's ``repr`` (e.g. ``"0.0001"``, ``"2.0"``).

Tensor names within a single-layer case: ``x`` input, ``y`` output, ``gy`` the
(random) upstream gradient, ``gx`` = d sum(y*gy) / d x, ``weight``/``bias``
and their gradients ``gweight``/``gbias``, ``indices`` (MaxPool2d
``return_indices``: I64, flat index ``h*W + w`` within each (n, c) plane of the
input).  See README.md for the network cases (``tinyzf*``).
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
DT = torch.float64

WRITTEN = []


# ---------------------------------------------------------------------------
# safetensors writer
# ---------------------------------------------------------------------------
def write_safetensors(filename, tensors, metadata):
    """Write ``tensors`` (name -> torch.Tensor) and ``metadata`` (str -> str)."""
    for key, val in metadata.items():
        assert isinstance(key, str) and isinstance(val, str), (key, val)
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype in (torch.float32, torch.float64):
            arr = t.numpy().astype("<f4")
            dtype = "F32"
        elif t.dtype == torch.int64:
            arr = t.numpy().astype("<i8")
            dtype = "I64"
        else:
            raise TypeError(f"{filename}: {name}: unsupported dtype {t.dtype}")
        data = np.ascontiguousarray(arr).tobytes(order="C")
        header[name] = {
            "dtype": dtype,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * ((-len(text)) % 8)
    path = os.path.join(OUT_DIR, filename)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    WRITTEN.append(filename)


def read_safetensors(filename):
    """Minimal reader, used to self-check the writer."""
    with open(os.path.join(OUT_DIR, filename), "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n].decode("ascii"))
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    out = {}
    expect = 0
    for name in sorted(header):
        e = header[name]
        b, end = e["data_offsets"]
        assert b == expect, (filename, name)
        expect = end
        np_dt = {"F32": "<f4", "I64": "<i8"}[e["dtype"]]
        out[name] = np.frombuffer(data[b:end], dtype=np_dt).reshape(e["shape"])
    assert expect == len(data), filename
    return out, meta


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def f32(t):
    """Round a float64 tensor to float32 values, kept in float64."""
    return t.to(torch.float32).to(DT)


def randn(*shape, scale=1.0):
    return f32(torch.randn(*shape, dtype=DT) * scale)


def meta_str(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, bool):
            out[k] = "1" if v else "0"
        elif isinstance(v, float):
            out[k] = repr(v)
        else:
            out[k] = str(v)
    return out


def pool_out_size(n, k, s, p, ceil):
    """PyTorch's pooling_output_shape (dilation 1)."""
    num = n + 2 * p - k + ((s - 1) if ceil else 0)
    out = num // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


# ---------------------------------------------------------------------------
# Conv2d
# ---------------------------------------------------------------------------
def conv_case(seed, cin, cout, k, s, p, H, W, batch=2):
    torch.manual_seed(seed)
    x = randn(batch, cin, H, W).requires_grad_()
    fan_in = cin * k * k
    w = randn(cout, cin, k, k, scale=1.0 / math.sqrt(fan_in)).requires_grad_()
    b = randn(cout, scale=0.1).requires_grad_()
    y = F.conv2d(x, w, b, stride=s, padding=p)
    Ho = (H + 2 * p - k) // s + 1
    Wo = (W + 2 * p - k) // s + 1
    assert y.shape == (batch, cout, Ho, Wo), y.shape
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    name = f"conv2d_in{cin}_out{cout}_k{k}_s{s}_p{p}_{H}x{W}.safetensors"
    write_safetensors(
        name,
        {"x": x, "y": y, "gy": gy, "gx": x.grad, "weight": w, "bias": b,
         "gweight": w.grad, "gbias": b.grad},
        meta_str({"kind": "Conv2d", "in": cin, "out": cout, "k": k, "stride": s,
                  "pad": p, "H": H, "W": W, "batch": batch, "Hout": Ho, "Wout": Wo}),
    )


# ---------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------
def relu_case(seed):
    torch.manual_seed(seed)
    x = randn(2, 3, 5, 7).requires_grad_()
    y = F.relu(x)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    write_safetensors("relu.safetensors", {"x": x, "y": y, "gy": gy, "gx": x.grad},
                      meta_str({"kind": "ReLU", "batch": 2, "C": 3, "H": 5, "W": 7}))


# ---------------------------------------------------------------------------
# MaxPool2d
# ---------------------------------------------------------------------------
def naive_maxpool(x, k, s, p, ceil):
    """Straightforward reference: first maximum in row-major scan order wins."""
    N, C, H, W = x.shape
    Ho, Wo = pool_out_size(H, k, s, p, ceil), pool_out_size(W, k, s, p, ceil)
    xs = x.detach().numpy()
    y = np.empty((N, C, Ho, Wo))
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            plane = xs[n, c]
            for oh in range(Ho):
                h0 = oh * s - p
                for ow in range(Wo):
                    w0 = ow * s - p
                    best, bi = -math.inf, -1
                    for h in range(max(h0, 0), min(h0 + k, H)):
                        for w in range(max(w0, 0), min(w0 + k, W)):
                            if plane[h, w] > best:
                                best, bi = plane[h, w], h * W + w
                    assert bi >= 0, "empty pooling window"
                    y[n, c, oh, ow] = best
                    idx[n, c, oh, ow] = bi
    return y, idx


def maxpool_case(name, seed, k, s, p, ceil, H, W, C=3, batch=2, ties=False,
                 expect_drop=None):
    torch.manual_seed(seed)
    if ties:
        x = torch.randint(0, 3, (batch, C, H, W)).to(DT)
    else:
        x = randn(batch, C, H, W)
    x.requires_grad_()
    y, ind = F.max_pool2d(x, k, s, p, ceil_mode=ceil, return_indices=True)
    Ho, Wo = pool_out_size(H, k, s, p, ceil), pool_out_size(W, k, s, p, ceil)
    assert y.shape == (batch, C, Ho, Wo), (name, y.shape, Ho, Wo)
    if expect_drop is not None:
        # the ceil formula without PyTorch's "last window must start inside the
        # input or the left padding" correction would give one more output
        raw_h = (H + 2 * p - k + s - 1) // s + 1
        raw_w = (W + 2 * p - k + s - 1) // s + 1
        assert (raw_h - Ho, raw_w - Wo) == expect_drop, (name, raw_h, Ho, raw_w, Wo)
    ry, ridx = naive_maxpool(x, k, s, p, ceil)
    assert np.array_equal(ry, y.detach().numpy()), name
    assert np.array_equal(ridx, ind.numpy()), name
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    write_safetensors(
        f"maxpool_{name}.safetensors",
        {"x": x, "y": y, "gy": gy, "gx": x.grad, "indices": ind},
        meta_str({"kind": "MaxPool2d", "k": k, "stride": s, "pad": p, "ceil": ceil,
                  "H": H, "W": W, "C": C, "batch": batch, "Hout": Ho, "Wout": Wo,
                  "ties": ties}),
    )


# ---------------------------------------------------------------------------
# LocalResponseNorm
# ---------------------------------------------------------------------------
def naive_lrn(x, size, alpha, beta, k):
    xs = x.detach().numpy()
    N, C = xs.shape[:2]
    y = np.empty_like(xs)
    for c in range(C):
        lo = max(0, c - size // 2)
        hi = min(C - 1, c + (size - 1) // 2)
        ssum = (xs[:, lo:hi + 1] ** 2).sum(axis=1)
        y[:, c] = xs[:, c] / (k + alpha / size * ssum) ** beta
    return y


def lrn_case(name, seed, size, alpha, beta, k, C, H, W, batch=2):
    torch.manual_seed(seed)
    x = randn(batch, C, H, W, scale=2.0).requires_grad_()
    y = nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=k)(x)
    assert np.allclose(naive_lrn(x, size, alpha, beta, k), y.detach().numpy(),
                       rtol=1e-12, atol=1e-12), name
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    write_safetensors(
        f"lrn_{name}.safetensors",
        {"x": x, "y": y, "gy": gy, "gx": x.grad},
        meta_str({"kind": "LocalResponseNorm", "size": size, "alpha": float(alpha),
                  "beta": float(beta), "k": float(k), "C": C, "H": H, "W": W,
                  "batch": batch}),
    )


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
def linear_case(seed, fin, fout, batch=3):
    torch.manual_seed(seed)
    x = randn(batch, fin).requires_grad_()
    w = randn(fout, fin, scale=1.0 / math.sqrt(fin)).requires_grad_()
    b = randn(fout, scale=0.1).requires_grad_()
    y = F.linear(x, w, b)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    write_safetensors(
        f"linear_in{fin}_out{fout}.safetensors",
        {"x": x, "y": y, "gy": gy, "gx": x.grad, "weight": w, "bias": b,
         "gweight": w.grad, "gbias": b.grad},
        meta_str({"kind": "Linear", "in": fin, "out": fout, "batch": batch}),
    )


# ---------------------------------------------------------------------------
# softmax + cross-entropy
# ---------------------------------------------------------------------------
def softmax_xent_case(seed):
    torch.manual_seed(seed)
    N, K = 4, 10
    x = randn(N, K, scale=2.0).requires_grad_()
    labels = torch.randint(0, K, (N,))
    prob = F.softmax(x, dim=1)
    loss = F.cross_entropy(x, labels, reduction="mean")
    loss.backward()
    write_safetensors(
        "softmax_xent.safetensors",
        {"x": x, "labels": labels, "prob": prob, "loss": loss.reshape(1),
         "gx": x.grad},
        meta_str({"kind": "SoftmaxCrossEntropy", "batch": N, "classes": K,
                  "reduction": "mean"}),
    )


# ---------------------------------------------------------------------------
# tiny ZFNet
# ---------------------------------------------------------------------------
FEATURE_NAMES = ["conv1", "relu1", "pool1", "norm1", "conv2", "relu2", "pool2",
                 "norm2", "conv3", "relu3", "conv4", "relu4", "conv5", "relu5",
                 "pool5"]
CLASSIFIER_NAMES = ["drop6", "fc6", "relu6", "drop7", "fc7", "relu7", "fc8"]
LAYER_NAMES = FEATURE_NAMES + ["flatten"] + CLASSIFIER_NAMES
EXPECTED_SHAPES = {
    "conv1": (8, 54, 54), "relu1": (8, 54, 54), "pool1": (8, 27, 27),
    "norm1": (8, 27, 27), "conv2": (16, 12, 12), "relu2": (16, 12, 12),
    "pool2": (16, 6, 6), "norm2": (16, 6, 6), "conv3": (24, 6, 6),
    "relu3": (24, 6, 6), "conv4": (24, 6, 6), "relu4": (24, 6, 6),
    "conv5": (16, 6, 6), "relu5": (16, 6, 6), "pool5": (16, 3, 3),
    "flatten": (144,), "drop6": (144,), "fc6": (32,), "relu6": (32,),
    "drop7": (32,), "fc7": (32,), "relu7": (32,), "fc8": (10,),
}


def build_tinyzf():
    features = nn.Sequential(
        nn.Conv2d(3, 8, 7, 2, 1),                                  # 0 conv1
        nn.ReLU(),                                                 # 1 relu1
        nn.MaxPool2d(3, 2, ceil_mode=True),                        # 2 pool1
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),     # 3 norm1
        nn.Conv2d(8, 16, 5, 2, 0),                                 # 4 conv2
        nn.ReLU(),                                                 # 5 relu2
        nn.MaxPool2d(3, 2, ceil_mode=True),                        # 6 pool2
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),     # 7 norm2
        nn.Conv2d(16, 24, 3, 1, 1),                                # 8 conv3
        nn.ReLU(),                                                 # 9 relu3
        nn.Conv2d(24, 24, 3, 1, 1),                                # 10 conv4
        nn.ReLU(),                                                 # 11 relu4
        nn.Conv2d(24, 16, 3, 1, 1),                                # 12 conv5
        nn.ReLU(),                                                 # 13 relu5
        nn.MaxPool2d(3, 2, ceil_mode=True),                        # 14 pool5
    )
    classifier = nn.Sequential(
        nn.Dropout(0.5),                                           # 0 drop6
        nn.Linear(144, 32),                                        # 1 fc6
        nn.ReLU(),                                                 # 2 relu6
        nn.Dropout(0.5),                                           # 3 drop7
        nn.Linear(32, 32),                                         # 4 fc7
        nn.ReLU(),                                                 # 5 relu7
        nn.Linear(32, 10),                                         # 6 fc8
    )
    model = nn.Module()
    model.features = features
    model.classifier = classifier
    return model.to(DT)


def tinyzf_cases(seed):
    torch.manual_seed(seed)
    model = build_tinyzf()
    model.eval()
    # Kaiming-normal weights (std = sqrt(2 / fan_in)) for the layers followed by
    # a ReLU, std = sqrt(1 / fan_in) for fc8 (keeps the softmax from saturating),
    # small random biases; drawn in float64 and rounded to float32.
    with torch.no_grad():
        for mod in list(model.features) + list(model.classifier):
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                gain = 1.0 if mod is model.classifier[6] else 2.0
                mod.weight.copy_(randn(*mod.weight.shape, scale=math.sqrt(gain / fan_in)))
                mod.bias.copy_(randn(*mod.bias.shape, scale=0.05))
    x = randn(2, 3, 112, 112).requires_grad_()
    labels = torch.randint(0, 10, (2,))

    mods = dict(zip(FEATURE_NAMES, model.features))
    mods["flatten"] = nn.Flatten()
    mods.update(zip(CLASSIFIER_NAMES, model.classifier))

    outs = {}
    h = x
    print("tinyzf per-layer outputs:")
    for lname in LAYER_NAMES:
        h = mods[lname](h)
        outs[lname] = h
        assert tuple(h.shape[1:]) == EXPECTED_SHAPES[lname], (lname, h.shape)
        frac_pos = (h > 0).double().mean().item()
        print(f"  {lname:8s} {str(tuple(h.shape)):22s} std={h.std().item():.4f} "
              f"frac>0={frac_pos:.3f}")
        assert h.std().item() > 1e-2, f"{lname}: activations vanished"
    fc8 = outs["fc8"]
    loss = F.cross_entropy(fc8, labels, reduction="mean")
    prob = F.softmax(fc8, dim=1)
    loss.backward()
    print(f"  loss={loss.item():.6f} labels={labels.tolist()}")

    # PyTorch-style per-layer names for parameters
    pt_to_layer = {}
    for i, lname in enumerate(FEATURE_NAMES):
        pt_to_layer[f"features.{i}"] = lname
    for i, lname in enumerate(CLASSIFIER_NAMES):
        pt_to_layer[f"classifier.{i}"] = lname

    tensors = {"x": x, "labels": labels, "loss": loss.reshape(1), "prob": prob,
               "grad.x": x.grad}
    state = model.state_dict()
    params = dict(model.named_parameters())
    for key in state:
        mod_key, pname = key.rsplit(".", 1)
        lname = pt_to_layer[mod_key]
        tensors[f"{lname}.{pname}"] = state[key]
        tensors[f"grad.{lname}.{pname}"] = params[key].grad
    for lname in LAYER_NAMES:
        tensors[f"out.{lname}"] = outs[lname]
    assert sum(k.startswith("out.") for k in tensors) == 23
    assert sum(k.startswith("grad.") for k in tensors) == 17  # 16 params + x

    arch = ("conv1=Conv2d(3,8,k7,s2,p1) relu1 pool1=MaxPool2d(k3,s2,ceil) "
            "norm1=LRN(5,1e-4,0.75,2) conv2=Conv2d(8,16,k5,s2,p0) relu2 "
            "pool2=MaxPool2d(k3,s2,ceil) norm2=LRN(5,1e-4,0.75,2) "
            "conv3=Conv2d(16,24,k3,s1,p1) relu3 conv4=Conv2d(24,24,k3,s1,p1) relu4 "
            "conv5=Conv2d(24,16,k3,s1,p1) relu5 pool5=MaxPool2d(k3,s2,ceil) flatten "
            "drop6 fc6=Linear(144,32) relu6 drop7 fc7=Linear(32,32) relu7 "
            "fc8=Linear(32,10)")
    write_safetensors(
        "tinyzf.safetensors", tensors,
        meta_str({"kind": "TinyZF", "batch": 2, "C": 3, "H": 112, "W": 112,
                  "classes": 10, "mode": "eval", "layers": " ".join(LAYER_NAMES),
                  "arch": arch, "reduction": "mean"}),
    )

    pt = {k: v for k, v in state.items()}
    # an input mean a model file may carry (ImageNet RGB mean, 0..255 scale)
    pt["preprocess.mean"] = f32(torch.tensor([123.68, 116.779, 103.939], dtype=DT))
    write_safetensors("tinyzf_pytorch_names.safetensors", pt,
                      meta_str({"format": "pt", "kind": "TinyZFStateDict"}))
    return sorted(state.keys())


# ---------------------------------------------------------------------------
def main():
    torch.set_grad_enabled(True)
    torch.set_num_threads(1)  # keep reductions in one fixed order

    # Conv2d
    conv_case(101, 3, 8, 7, 2, 1, 23, 23)
    conv_case(102, 4, 6, 5, 2, 0, 15, 15)
    conv_case(103, 5, 7, 3, 1, 1, 9, 9)
    conv_case(104, 2, 3, 3, 3, 0, 10, 10)   # stride does not divide evenly
    conv_case(105, 3, 4, 5, 1, 2, 5, 5)     # kernel as large as the input, padded
    conv_case(106, 3, 5, 6, 1, 0, 6, 6)     # kernel == whole input -> 1x1
    conv_case(107, 3, 4, 3, 2, 1, 9, 13)    # non-square input
    conv_case(108, 17, 20, 3, 1, 1, 10, 10, batch=8)  # enough 2x2 tiles for the CPU's Winograd path

    relu_case(201)

    # MaxPool2d
    maxpool_case("k3s2_ceil_11x11", 301, 3, 2, 0, True, 11, 11)
    maxpool_case("k3s2_ceil_12x12", 302, 3, 2, 0, True, 12, 12)
    maxpool_case("k3s2_ceil_13x13", 303, 3, 2, 0, True, 13, 13)
    maxpool_case("k3s2_ceil_110x110", 304, 3, 2, 0, True, 110, 110, C=2, batch=1)
    maxpool_case("k3s2p1_ceil_10x10", 305, 3, 2, 1, True, 10, 10, expect_drop=(0, 0))
    maxpool_case("k3s2p1_ceil_6x6", 306, 3, 2, 1, True, 6, 6, expect_drop=(0, 0))
    maxpool_case("k2s2p1_ceil_5x5", 307, 2, 2, 1, True, 5, 5, expect_drop=(1, 1))
    maxpool_case("k2s2p1_ceil_5x6", 308, 2, 2, 1, True, 5, 6, expect_drop=(1, 0))
    maxpool_case("k3s3p1_ceil_5x5", 309, 3, 3, 1, True, 5, 5, expect_drop=(1, 1))
    maxpool_case("k3s2_floor_11x11", 310, 3, 2, 0, False, 11, 11)
    maxpool_case("k3s2_floor_12x12", 311, 3, 2, 0, False, 12, 12)
    maxpool_case("k2s2_floor_7x7", 312, 2, 2, 0, False, 7, 7)
    maxpool_case("k2s2_ceil_7x7", 313, 2, 2, 0, True, 7, 7)
    maxpool_case("k3s1p1_floor_8x8", 314, 3, 1, 1, False, 8, 8)
    maxpool_case("k3s2_ceil_9x13", 315, 3, 2, 0, True, 9, 13)   # non-square
    maxpool_case("ties", 316, 3, 2, 0, True, 12, 12, ties=True)

    # LocalResponseNorm
    lrn_case("size5_a1e-4_b0.75_k2", 401, 5, 1e-4, 0.75, 2.0, C=8, H=6, W=6)
    lrn_case("size5_a0.5_b0.75_k1", 402, 5, 0.5, 0.75, 1.0, C=7, H=5, W=5)
    lrn_case("size4_a0.3_b0.6_k1.5", 403, 4, 0.3, 0.6, 1.5, C=6, H=4, W=5)
    lrn_case("size3_a1_b1.2_k0.5", 404, 3, 1.0, 1.2, 0.5, C=2, H=4, W=4)

    # Linear
    linear_case(501, 17, 5)
    linear_case(502, 64, 33)

    softmax_xent_case(601)

    pt_keys = tinyzf_cases(701)
    print("state_dict keys:", " ".join(pt_keys))

    # self-check: read everything back
    total = 0
    for fn in WRITTEN:
        read_safetensors(fn)
        total += os.path.getsize(os.path.join(OUT_DIR, fn))
    print(f"wrote {len(WRITTEN)} files, {total} bytes total")


if __name__ == "__main__":
    sys.exit(main())
