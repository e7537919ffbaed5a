#!/usr/bin/env python3
"""Golden fixtures for the torchvision layers and networks (issue 18).

    /usr/bin/python3 tests/golden/make_zoo_fixtures.py

Needs Debian's python3-torch and python3-torchvision; the C++ tests never do.  Deterministic:
re-running with the same PyTorch gives byte-identical files.  Numerics as make_fixtures.py:
values drawn, rounded to float32, every reference computed in float64, stored as F32.

Layer cases (``bn_*``, ``avgpool_*``, ``adaptive_*``, ``global_*``, ``block_*``) store every
tensor: ``x``, ``y``, ``gy``, ``gx`` (d sum(y*gy)/dx), parameters and their gradients, and for
BatchNorm in training the running statistics after the step (``running_mean_after``,
``running_var_after``).  Residual blocks also store the three projections (``proj_<mode>``) of
``gy`` from the block's output to its input.

Network cases (``zoo_<model>.safetensors``) would be hundreds of megabytes with their weights,
so the weights and the input are not stored: both sides compute them from a formula (below) and
the file holds the references.  Value i of the tensor named N is, with u = uniform(stream(SEED,
fnv1a64(N)), i) — convis's counter_random (splitmix64), re-implemented here in numpy:

    rank >= 2 weights  (2u - 1) * sqrt(6 / fan_in)      (He uniform; fan_in = in * kh * kw)
    BatchNorm weight   0.4 + 0.4u
    any bias           0.2 (u - 0.5)
    running_mean       0.2 (u - 0.5)
    running_var        0.5 + u
    the input "input"  2u - 1                              ([1, 3, 224, 224])

Each file holds ``logits`` [1, 10] (eval mode) and, for two layers L and the three modes,
the projection to pixels of the strongest activation of channel 3 of L (first maximum in
row-major order): ``<L>/<mode>/index`` (I64: the 1024 entries of largest magnitude, then 1024
evenly strided ones), ``<L>/<mode>/value`` at those indices, and ``<L>/<mode>/sumsq``, the sum of
squares of the whole projection.  Modes: deconvnet (ReLU passes relu(g)), guided (relu(g)·[y>0]),
gradient (autograd).  BatchNorm (eval) passes the signal scaled by weight/sqrt(var + eps), which
is its autograd; a residual sum sends the signal down both branches and autograd sums them.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import meta_str, write_safetensors  # noqa: E402

DT = torch.float64
SEED = 18
MASK = (1 << 64) - 1


def f32(t):
    return t.to(torch.float32).to(DT)


def randn(*shape, scale=1.0, shift=0.0):
    return f32(torch.randn(*shape, dtype=DT) * scale + shift)


# ---------------------------------------------------------------------------------------------
# the formula weights (counter_random.hpp)
# ---------------------------------------------------------------------------------------------
def mix(z):
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream(seed, call):
    with np.errstate(over="ignore"):
        return int(mix(np.uint64(seed) ^ mix(np.uint64((call + 0x9E3779B97F4A7C15) & MASK))))


def uniform(st, n):
    with np.errstate(over="ignore"):
        z = mix(np.uint64(st) + np.arange(n, dtype=np.uint64))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def fnv1a(name):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def formula(name, shape, fan_in, seed=SEED):
    u = uniform(stream(seed, fnv1a(name)), int(np.prod(shape)))
    if name == "input":
        v = 2 * u - 1
    elif name.endswith("running_mean") or name.endswith("bias"):
        v = 0.2 * (u - 0.5)
    elif name.endswith("running_var"):
        v = 0.5 + u
    elif len(shape) >= 2:
        v = (2 * u - 1) * math.sqrt(6.0 / fan_in)
    else:  # a BatchNorm weight
        v = 0.4 + 0.4 * u
    return f32(torch.from_numpy(v.reshape(shape)))


def fill(model):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            fan_in = int(np.prod(t.shape[1:])) if t.dim() >= 2 else 1
            t.copy_(formula(name, tuple(t.shape), fan_in))


# ---------------------------------------------------------------------------------------------
# projections: a ReLU whose backward follows the mode
# ---------------------------------------------------------------------------------------------
class Rectify(torch.autograd.Function):
    mode = "gradient"

    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if Rectify.mode == "deconvnet":
            return g.clamp(min=0)
        if Rectify.mode == "guided":
            return g.clamp(min=0) * (y > 0)
        return g * (y > 0)


class ModeReLU(nn.Module):
    def forward(self, x):
        return Rectify.apply(x)


def swap_relus(module):
    for name, child in module.named_children():
        if isinstance(child, nn.ReLU):
            setattr(module, name, ModeReLU())
        else:
            swap_relus(child)


MODES = ("deconvnet", "guided", "gradient")


def samples(p):
    flat = p.reshape(-1)
    n = flat.numel()
    big = torch.argsort(flat.abs(), descending=True, stable=True)[:1024]
    even = torch.arange(0, n, n // 1024)[:1024]
    idx = torch.cat([big, even])
    return idx, flat[idx]


# ---------------------------------------------------------------------------------------------
# layer cases
# ---------------------------------------------------------------------------------------------
def bn_case(name, training, seed):
    torch.manual_seed(seed)
    x = randn(4, 3, 5, 6, scale=2.0, shift=1.0).requires_grad_()
    w = randn(3, scale=0.5, shift=1.0).requires_grad_()
    b = randn(3, scale=0.5).requires_grad_()
    rm = randn(3, scale=0.3)
    rv = f32(torch.rand(3, dtype=DT) + 0.5)
    rm2, rv2 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm2, rv2, w, b, training=training, momentum=0.1, eps=1e-5)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    t = {"x": x, "y": y, "gy": gy, "gx": x.grad, "weight": w, "bias": b, "running_mean": rm, "running_var": rv,
         "gweight": w.grad, "gbias": b.grad}
    if training:
        t["running_mean_after"] = rm2
        t["running_var_after"] = rv2
    write_safetensors(name, t, meta_str({"kind": "BatchNorm2d", "training": training, "C": 3, "batch": 4}))


def pool_case(name, fn, H, W, meta, seed):
    torch.manual_seed(seed)
    x = randn(2, 3, H, W).requires_grad_()
    y = fn(x)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    write_safetensors(name, {"x": x, "y": y, "gy": gy, "gx": x.grad}, meta_str(meta))


def block_case(name, block, cin, H, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for k, t in block.state_dict().items():
            if not t.is_floating_point():
                continue
            if k.endswith("running_var"):
                t.copy_(f32(torch.rand(t.shape, dtype=DT) + 0.5))
            elif k.endswith("running_mean") or k.endswith("bias"):
                t.copy_(randn(*t.shape, scale=0.2))
            elif t.dim() == 1:
                t.copy_(randn(*t.shape, scale=0.2, shift=1.0))
            else:
                t.copy_(randn(*t.shape, scale=1.0 / math.sqrt(np.prod(t.shape[1:]))))
    block = block.to(DT).eval()
    swap_relus(block)
    x = randn(2, cin, H, H).requires_grad_()
    # Copies: the training forward below updates the running statistics in place.
    tensors = {k: v.clone() for k, v in block.state_dict().items() if v.is_floating_point()}
    Rectify.mode = "gradient"
    y = block(x)
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    tensors.update({"x": x.detach(), "y": y.detach(), "gy": gy, "gx": x.grad.clone()})
    for k, p in block.named_parameters():
        tensors["grad." + k] = p.grad.clone()
    for mode in MODES:
        Rectify.mode = mode
        xi = x.detach().clone().requires_grad_()
        (block(xi) * gy).sum().backward()
        tensors["proj_" + mode] = xi.grad
    # Training mode: batch statistics inside the block.
    block.train()
    Rectify.mode = "gradient"
    for p in block.parameters():
        p.grad = None
    xt = x.detach().clone().requires_grad_()
    yt = block(xt)
    (yt * gy).sum().backward()
    tensors["train.y"] = yt.detach()
    tensors["train.gx"] = xt.grad
    for k, p in block.named_parameters():
        tensors["train.grad." + k] = p.grad.clone()
    write_safetensors(name, tensors, meta_str({"kind": "Residual", "cin": cin, "H": H}))


# ---------------------------------------------------------------------------------------------
# network cases
# ---------------------------------------------------------------------------------------------
ZOO = {
    "alexnet": (lambda: torchvision.models.alexnet(num_classes=10), ["features.8", "features.12"]),
    "vgg16": (lambda: torchvision.models.vgg16(num_classes=10), ["features.16", "features.30"]),
    "vgg16_bn": (lambda: torchvision.models.vgg16_bn(num_classes=10), ["features.23", "features.43"]),
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), ["layer2.0", "layer4.1"]),
    "resnet50": (lambda: torchvision.models.resnet50(num_classes=10), ["layer3.0", "layer4.2"]),
}


def module_at(model, name):
    m = model
    for part in name.split("."):
        m = m[int(part)] if part.isdigit() else getattr(m, part)
    return m


def zoo_case(key):
    make, layers = ZOO[key]
    model = make()
    fill(model)
    model = model.to(DT).eval()
    swap_relus(model)
    x = formula("input", (1, 3, 224, 224), 1)
    out = {}
    Rectify.mode = "gradient"
    with torch.no_grad():
        out["logits"] = model(x)
    for layer in layers:
        captured = {}
        h = module_at(model, layer).register_forward_hook(lambda m, i, o: captured.__setitem__("a", o))
        for mode in MODES:
            Rectify.mode = mode
            xi = x.clone().requires_grad_()
            model(xi)
            a = captured["a"]
            c = 3
            plane = a[0, c].reshape(-1)
            at = int(torch.argmax(plane))  # the first maximum
            s = torch.zeros_like(a)
            s[0, c].view(-1)[at] = plane[at].detach()
            (a * s).sum().backward()
            idx, val = samples(xi.grad[0])
            out[f"{layer}/{mode}/index"] = idx.to(torch.int64)
            out[f"{layer}/{mode}/value"] = val
            out[f"{layer}/{mode}/sumsq"] = (xi.grad ** 2).sum().reshape(1)
        h.remove()
    write_safetensors(f"zoo_{key}.safetensors", out,
                      meta_str({"kind": "zoo", "model": key, "seed": SEED, "layers": ",".join(layers)}))


def main():
    """No arguments: every case. Otherwise the named cases: "layers" and/or network keys."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    wanted = sys.argv[1:]
    if not wanted or "layers" in wanted:
        layer_cases()
    for key in (wanted or ZOO):
        if key != "layers":
            zoo_case(key)
            print("wrote", key, flush=True)


def layer_cases():
    bn_case("bn_train.safetensors", True, 1801)
    bn_case("bn_eval.safetensors", False, 1802)
    pool_case("avgpool_k3s2p1_7x9.safetensors", lambda x: F.avg_pool2d(x, 3, 2, 1), 7, 9,
              {"kind": "AvgPool2d", "k": 3, "stride": 2, "pad": 1}, 1803)
    pool_case("avgpool_k2s2_6x6.safetensors", lambda x: F.avg_pool2d(x, 2, 2), 6, 6,
              {"kind": "AvgPool2d", "k": 2, "stride": 2, "pad": 0}, 1804)
    pool_case("adaptive_3x3_7x8.safetensors", lambda x: F.adaptive_avg_pool2d(x, (3, 3)), 7, 8,
              {"kind": "AdaptiveAvgPool2d", "oh": 3, "ow": 3}, 1805)
    pool_case("adaptive_5x4_11x7.safetensors", lambda x: F.adaptive_avg_pool2d(x, (5, 4)), 11, 7,
              {"kind": "AdaptiveAvgPool2d", "oh": 5, "ow": 4}, 1806)
    pool_case("global_5x5.safetensors", lambda x: F.adaptive_avg_pool2d(x, 1), 5, 5,
              {"kind": "GlobalAvgPool"}, 1807)
    from torchvision.models.resnet import BasicBlock, Bottleneck
    down = nn.Sequential(nn.Conv2d(4, 8, 1, 2, bias=False), nn.BatchNorm2d(8))
    block_case("block_basic_down.safetensors", BasicBlock(4, 8, 2, down), 4, 8, 1808)
    block_case("block_basic_identity.safetensors", BasicBlock(8, 8), 8, 6, 1809)
    down = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
    block_case("block_bottleneck_down.safetensors", Bottleneck(8, 4, 2, down), 8, 7, 1810)


if __name__ == "__main__":
    main()
