#!/usr/bin/env python3
"""Golden fixture for feature visualisation (include/convis/analysis/feature_vis/).

    /usr/bin/python3 tests/golden/make_feature_vis_fixtures.py

Needs Debian's python3-torch and python3-torchvision (the formula is make_zoo_fixtures.py's, the
ZFNet28 geometry make_attribution_fixtures.py's); the C++ test (tests/test_feature_vis.cpp) never
does.  Deterministic: two threads and no torch random numbers, so a re-run with the same PyTorch
gives a byte-identical file, feature_vis.safetensors.

Numerics: every input is a pure function of counter_random (include/convis/core/counter_random.hpp)
and is computed in float64 exactly as the C++ side computes it (no float32 rounding of inputs),
every reference is computed in float64 with autograd, and the results are stored as F32
(tests/support.hpp reads F32 only).  The C++ test runs everything in double: Adam's first step is
m_hat / sqrt(v_hat) = +-1 per parameter, so float32 noise in a tiny gradient would flip a step.

Random inputs.  U(name, n) = uniform(stream(SEED, fnv1a64(name)), i), i < n, SEED = 20;
Z(key, n, sd) = sd * normal(stream(SEED, key), i) with counter_random's Box-Muller
(sqrt(-2 ln(1 - u_2i)) cos(2 pi u_2i+1)), the parametrisation's `init`.

1. Transforms (analysis/transforms.hpp) on a 3x10x12 picture u = U("transform.u") and an upstream
   gradient g = 2 U("transform.g") - 1:
       affine_sample(u, m, fill 0.5) = grid_sample(u - 0.5, affine_grid(theta, align_corners=False),
           bilinear, zeros, align_corners=False) + 0.5,
       theta = [[xx, xy H/W, 2 bx/W], [yx W/H, yy, 2 by/H]],
   and its adjoint d <affine_sample(u), g> / du (autograd), for the maps
       jitter   by = -2, bx = 3 (A = identity)
       scale    affine_map::of(scale, 1.1)     (A = I / 1.1)
       rotate   affine_map::of(rotate, 7)      (A = [[cos, sin], [-sin, cos]] as yy yx / xy xx)
       step0, step1   robustness_transform(o, 10, t), o.seed = 20, default options: jitter
                 round(10/16) = 1, st = stream(20, 2^63 + t), by = -(floor(u0 * 3) - 1), bx likewise
                 with u1, scale 0.9 + 0.2 u2, angle 10 (2 u3 - 1) degrees, composed as
                 rotate.after(scale.after(jitter)) (affine_map::after).
2. Parametrisation (feature_vis/parametrisation.hpp), params p = Z(fnv1a64("param.<case>"), P,
   0.5), grad_u = 2 U("param.<case>.grad") - 1:
       fourier  y = irfftn(view_as_complex(scale[..., None] * p), s=(H, W), norm="ortho") / 4,
                p [C, H, W//2+1, 2], scale = 1 / max(sqrt(fx^2 + fy^2), 1/max(H, W))^decay,
                fy = fftfreq(H)[:, None], fx = |fftfreq(W)[:W//2+1]| (= k/W; W//2+1 bins for odd W
                too, unlike lucent's W//2+2)
       pixel    y = p
       then     colour decorrelation for 3 channels (y_r = sum_c Mn[r, c] y_c, Mn = lucid's
                color_correlation_svd_sqrt / its largest column norm), u = sigmoid(y).
   Cases: fourier_3x10x12 (decorrelated), fourier_1x9x7 (odd sizes, 1 channel: no decorrelation),
   pixel_3x10x12 (decorrelated), fourier_1x28x28_d1.5 (decay power 1.5).
3. Adam: torch.optim.Adam(lr=0.05) for 5 steps on loss = sum_i w_i (p_i - t_i)^2 over 20
   parameters, p0 = 2 U("adam.p0") - 1, w = 0.5 + U("adam.w"), t = 2 U("adam.t") - 1.
4. visualise_features on ZFNet28<10> (make_attribution_fixtures.py's geometry, eval mode) with the
   formula weights of seed 20, 4 steps, preprocessing mean 0.286 and std 0.353 as float32 values
   (x = (v - mean) * (1 / std)), seed 20, init_sd 0.01 (default), Adam lr 0.05, one batch.  Per
   step: u = render(p); v = affine_sample(u, robustness_transform(t), 0.5) (or v = u); x as above;
   loss = -sum_n objective_n(layer output of x_n) + sum_n [l2 mean((u_n - 1/2)^2)
   + tv sum |neighbour differences of u_n| / (C H W)]; one Adam step on every picture's p.
   Picture n starts from Z(key, P, 0.01), key = the objective's channel (2^62 + n for a
   direction).  The curve holds each step's objective on the transformed picture (before the
   step); the value is the objective on the final, untransformed picture.  Objectives: channel c
   = mean of the channel's map, unit = one position (the centre (3, 3) of a 7x7 map), direction v
   = mean over positions of sum_c v_c a_c, a class logit = the channel objective at fc8.
       a  conv3 channels 0, 5, 17, fourier, transforms on, l2 0.1, tv 0.05
       b  conv3 channels 0, 5, 17, pixel, transforms on
       c  conv5 unit (3, centre), fourier, transforms off
       d  conv4 direction v = 2 U("direction") - 1 (128 weights), fourier, transforms on
       e  fc8 channel 2 (class logit), pixel, transforms off, l2 0.2

Tensors (all F32):
    transform.u [3,10,12], transform.g [3,10,12]
    transform.<m>.map [6] (yy, yx, xy, xx, by, bx), transform.<m>.v, transform.<m>.gu [3,10,12]
        for m in jitter, scale, rotate, step0, step1
    param.<case>.p [P], param.<case>.grad_u [C,H,W], param.<case>.u [C,H,W],
        param.<case>.grad_p [P] (P = C*H*(W//2+1)*2 for fourier, C*H*W for pixel)
    adam.p0, adam.w, adam.t [20], adam.params [5,20] (the parameters after each step)
    vis.<case>.picture [N,1,28,28], vis.<case>.curve [N,4], vis.<case>.values [N]
        for case in a, b, c, d, e
Metadata: kind, model, formula_seed, seed, steps, mean, std, lr, vis.<case>.* (layer, objectives,
parametrisation, transforms, l2, tv).
"""
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import write_safetensors  # noqa: E402
import make_attribution_fixtures as att  # noqa: E402
import make_zoo_fixtures as zoo  # noqa: E402
from make_zoo_fixtures import fnv1a, stream, uniform  # noqa: E402

DT = torch.float64
SEED = 20
THREADS = 2
STEPS = 4
LR = 0.05
MEAN = float(np.float32(0.286))  # convis::preprocess holds floats
STD = float(np.float32(0.353))

# lucid's color_correlation_svd_sqrt, rows the output channels, over its largest column norm
COLOUR = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOUR_N = torch.from_numpy(COLOUR / np.max(np.linalg.norm(COLOUR, axis=0)))


# ---------------------------------------------------------------------------------------------
# counter_random streams
# ---------------------------------------------------------------------------------------------
def U(name, n):
    return uniform(stream(SEED, fnv1a(name)), n)


def Z(key, n, sd):
    """sd * counter_random::normal(stream(SEED, key), i), i < n."""
    u = uniform(stream(SEED, key), 2 * n)
    u1, u2 = u[0::2], u[1::2]
    return sd * (np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(6.283185307179586476925 * u2))


def tensor(a, shape=None):
    t = torch.from_numpy(np.asarray(a, dtype=np.float64).copy())
    return t if shape is None else t.reshape(shape)


# ---------------------------------------------------------------------------------------------
# analysis/transforms.hpp: affine_map, affine_sample
# ---------------------------------------------------------------------------------------------
class Map:
    def __init__(self, yy=1.0, yx=0.0, xy=0.0, xx=1.0, by=0.0, bx=0.0):
        self.yy, self.yx, self.xy, self.xx, self.by, self.bx = yy, yx, xy, xx, by, bx

    @staticmethod
    def of(kind, value):
        if kind == "translate":
            return Map(by=-value)
        if kind == "scale":
            return Map(yy=1 / value, xx=1 / value)
        assert kind == "rotate"
        a = value * (math.pi / 180.0)
        return Map(yy=math.cos(a), yx=math.sin(a), xy=-math.sin(a), xx=math.cos(a))

    def after(self, first):
        """This map applied after `first`: reads the source at c + F A (p - c) + F b + f."""
        Fm = np.array([[first.yy, first.yx, first.by], [first.xy, first.xx, first.bx], [0, 0, 1]])
        A = np.array([[self.yy, self.yx, self.by], [self.xy, self.xx, self.bx], [0, 0, 1]])
        r = Fm @ A
        return Map(r[0, 0], r[0, 1], r[1, 0], r[1, 1], r[0, 2], r[1, 2])

    def values(self):
        return [self.yy, self.yx, self.xy, self.xx, self.by, self.bx]

    def theta(self, H, W):
        return torch.tensor([[self.xx, self.xy * H / W, 2 * self.bx / W],
                             [self.yx * W / H, self.yy, 2 * self.by / H]], dtype=DT)


def affine_sample(u, m, fill):
    """u [N,C,H,W] resampled through m; a neighbour outside the picture contributes `fill`."""
    N, C, H, W = u.shape
    grid = F.affine_grid(m.theta(H, W).expand(N, 2, 3), list(u.shape), align_corners=False)
    return F.grid_sample(u - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


def robustness_transform(seed, height, step, jitter=-1, scale_min=0.9, scale_max=1.1, rotate=10.0):
    u = uniform(stream(seed, (1 << 63) + step), 4)
    j = jitter if jitter >= 0 else int(math.floor(height / 16.0 + 0.5))  # std::lround
    shift = Map(by=-(math.floor(u[0] * (2 * j + 1)) - j), bx=-(math.floor(u[1] * (2 * j + 1)) - j))
    s = scale_min + (scale_max - scale_min) * u[2]
    a = rotate * (2 * u[3] - 1)
    return Map.of("rotate", a).after(Map.of("scale", s).after(shift))


# ---------------------------------------------------------------------------------------------
# feature_vis/parametrisation.hpp
# ---------------------------------------------------------------------------------------------
class Param:
    def __init__(self, kind, C, H, W, decorrelate=True, decay=1.0):
        self.kind, self.C, self.H, self.W = kind, C, H, W
        self.decorrelate = decorrelate and C == 3
        if kind == "fourier":
            self.shape = (C, H, W // 2 + 1, 2)
            fy = np.fft.fftfreq(H)[:, None]
            fx = np.abs(np.fft.fftfreq(W)[:W // 2 + 1])[None, :]
            f = np.sqrt(fx * fx + fy * fy)
            self.scale = tensor(1.0 / np.maximum(f, 1.0 / max(H, W)) ** decay)
        else:
            assert kind == "pixel"
            self.shape = (C, H, W)
        self.size = int(np.prod(self.shape))

    def render(self, p):
        """p [N, *shape] -> u [N, C, H, W]."""
        if self.kind == "fourier":
            spec = torch.view_as_complex((self.scale[..., None] * p).contiguous())
            y = torch.fft.irfftn(spec, s=(self.H, self.W), norm="ortho") / 4
        else:
            y = p
        if self.decorrelate:
            y = (y.permute(0, 2, 3, 1) @ COLOUR_N.T).permute(0, 3, 1, 2)
        return torch.sigmoid(y)


# ---------------------------------------------------------------------------------------------
# ZFNet28<10> with the formula weights of SEED
# ---------------------------------------------------------------------------------------------
class Net28(att.Net):
    def __init__(self):
        self.arch = att.ZFNET28
        self.names = [l[0] for l in self.arch]
        self.P = {}
        for l in self.arch:
            if l[1] == "conv":
                _, _, cin, cout, k, _, _ = l
                self.P[l[0] + ".weight"] = zoo.formula(l[0] + ".weight", (cout, cin, k, k), cin * k * k, SEED)
                self.P[l[0] + ".bias"] = zoo.formula(l[0] + ".bias", (cout,), 1, SEED)
            elif l[1] == "linear":
                _, _, fin, fout = l
                self.P[l[0] + ".weight"] = zoo.formula(l[0] + ".weight", (fout, fin), fin, SEED)
                self.P[l[0] + ".bias"] = zoo.formula(l[0] + ".bias", (fout,), 1, SEED)


def objective_value(ob, a):
    """One sample's objective on its layer output a ([C,H,W] or [F])."""
    if a.dim() == 1:
        a = a[:, None, None]
    kind = ob[0]
    if kind == "channel":
        return a[ob[1]].mean()
    if kind == "unit":
        return a[ob[1], (a.shape[1] - 1) // 2, (a.shape[2] - 1) // 2]
    assert kind == "direction"
    return (ob[1][:, None, None] * a).sum(0).mean()


def init_key(ob, n):
    return (1 << 62) + n if ob[0] == "direction" else ob[1]


def visualise(net, layer, objectives, kind, transforms, l2=0.0, tv=0.0, steps=STEPS, seed=SEED, init_sd=0.01):
    C, H, W = 1, 28, 28
    param = Param(kind, C, H, W)
    N = len(objectives)
    p0 = [tensor(Z(init_key(ob, n), param.size, init_sd), param.shape) for n, ob in enumerate(objectives)]
    p = torch.stack(p0).requires_grad_()
    opt = torch.optim.Adam([p], lr=LR)
    stop = net.index(layer) + 1
    inv = 1.0 / STD
    curve = torch.zeros(N, steps, dtype=DT)
    margin = float("inf")
    for t in range(steps):
        u = param.render(p)
        v = affine_sample(u, robustness_transform(seed, H, t), 0.5) if transforms else u
        x = (v - MEAN) * inv
        margin = min(margin, att.relu_margin(net, x.detach()))
        a = net.run(x, stop=stop)
        obj = torch.stack([objective_value(ob, a[n]) for n, ob in enumerate(objectives)])
        curve[:, t] = obj.detach()
        loss = -obj.sum()
        if l2 > 0:
            loss = loss + l2 * ((u - 0.5) ** 2).mean(dim=(1, 2, 3)).sum()
        if tv > 0:
            d = (u[..., :, 1:] - u[..., :, :-1]).abs().sum() + (u[..., 1:, :] - u[..., :-1, :]).abs().sum()
            loss = loss + tv * d / (C * H * W)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        u = param.render(p)
        a = net.run((u - MEAN) * inv, stop=stop)
        values = torch.stack([objective_value(ob, a[n]) for n, ob in enumerate(objectives)])
    return u, curve, values, margin


# ---------------------------------------------------------------------------------------------
# the fixture's groups
# ---------------------------------------------------------------------------------------------
def transform_group(tensors):
    C, H, W = 3, 10, 12
    u = tensor(U("transform.u", C * H * W), (1, C, H, W))
    g = tensor(2 * U("transform.g", C * H * W) - 1, (1, C, H, W))
    tensors["transform.u"], tensors["transform.g"] = u[0], g[0]
    maps = {"jitter": Map(by=-2.0, bx=3.0), "scale": Map.of("scale", 1.1), "rotate": Map.of("rotate", 7.0),
            "step0": robustness_transform(SEED, H, 0), "step1": robustness_transform(SEED, H, 1)}
    for name, m in maps.items():
        ur = u.clone().requires_grad_()
        v = affine_sample(ur, m, 0.5)
        (gu,) = torch.autograd.grad(v, ur, g)
        tensors[f"transform.{name}.map"] = torch.tensor(m.values(), dtype=DT)
        tensors[f"transform.{name}.v"] = v.detach()[0]
        tensors[f"transform.{name}.gu"] = gu[0]
        print(f"  transform {name}: map {[round(x, 6) for x in m.values()]}")
    # The jitter's whole-pixel shift copies (source (i - 2, j + 3)), grey outside.
    jv = tensors["transform.jitter.v"]
    assert torch.allclose(jv[:, 2:, :W - 3], u[0, :, :H - 2, 3:], rtol=0, atol=1e-12)
    assert torch.allclose(jv[:, :2], torch.full_like(jv[:, :2], 0.5), rtol=0, atol=1e-12)


PARAM_CASES = [("fourier_3x10x12", "fourier", 3, 10, 12, 1.0), ("fourier_1x9x7", "fourier", 1, 9, 7, 1.0),
               ("pixel_3x10x12", "pixel", 3, 10, 12, 1.0), ("fourier_1x28x28_d1.5", "fourier", 1, 28, 28, 1.5)]


def param_group(tensors):
    for name, kind, C, H, W, decay in PARAM_CASES:
        param = Param(kind, C, H, W, True, decay)
        p = tensor(Z(fnv1a(f"param.{name}"), param.size, 0.5), (1,) + param.shape).requires_grad_()
        gu = tensor(2 * U(f"param.{name}.grad", C * H * W) - 1, (1, C, H, W))
        u = param.render(p)
        (gp,) = torch.autograd.grad(u, p, gu)
        tensors[f"param.{name}.p"] = p.detach().reshape(-1)
        tensors[f"param.{name}.grad_u"] = gu[0]
        tensors[f"param.{name}.u"] = u.detach()[0]
        tensors[f"param.{name}.grad_p"] = gp.reshape(-1)
        print(f"  param {name}: P = {param.size}, u in [{float(u.min()):.4f}, {float(u.max()):.4f}], "
              f"max |grad_p| {float(gp.abs().max()):.4f}")


def adam_group(tensors):
    n = 20
    p = tensor(2 * U("adam.p0", n) - 1).requires_grad_()
    w = tensor(0.5 + U("adam.w", n))
    t = tensor(2 * U("adam.t", n) - 1)
    tensors["adam.p0"], tensors["adam.w"], tensors["adam.t"] = p.detach().clone(), w, t
    opt = torch.optim.Adam([p], lr=LR)
    steps = []
    for _ in range(5):
        opt.zero_grad()
        (w * (p - t) ** 2).sum().backward()
        opt.step()
        steps.append(p.detach().clone())
    tensors["adam.params"] = torch.stack(steps)


VIS_CASES = [
    # name, layer, objectives, parametrisation, transforms, l2, tv
    ("a", "conv3", [("channel", 0), ("channel", 5), ("channel", 17)], "fourier", True, 0.1, 0.05),
    ("b", "conv3", [("channel", 0), ("channel", 5), ("channel", 17)], "pixel", True, 0.0, 0.0),
    ("c", "conv5", [("unit", 3)], "fourier", False, 0.0, 0.0),
    ("d", "conv4", [("direction", tensor(2 * U("direction", 128) - 1))], "fourier", True, 0.0, 0.0),
    ("e", "fc8", [("channel", 2)], "pixel", False, 0.2, 0.0),
]


def describe(ob):
    return f"direction of {ob[1].numel()} weights" if ob[0] == "direction" else f"{ob[0]} {ob[1]}"


def vis_group(tensors, meta):
    net = Net28()
    for name, layer, objectives, kind, transforms, l2, tv in VIS_CASES:
        t0 = time.time()
        u, curve, values, margin = visualise(net, layer, objectives, kind, transforms, l2, tv)
        assert torch.isfinite(u).all() and (u > 0).all() and (u < 1).all()
        tensors[f"vis.{name}.picture"] = u
        tensors[f"vis.{name}.curve"] = curve
        tensors[f"vis.{name}.values"] = values
        meta.update({f"vis.{name}.layer": layer, f"vis.{name}.objectives": ";".join(describe(o) for o in objectives),
                     f"vis.{name}.parametrisation": kind, f"vis.{name}.transforms": "1" if transforms else "0",
                     f"vis.{name}.l2": repr(l2), f"vis.{name}.tv": repr(tv)})
        print(f"  vis {name} ({layer}, {kind}, transforms {transforms}): curve "
              f"{[[round(v, 5) for v in r] for r in curve.tolist()]} values {[round(v, 5) for v in values.tolist()]}; "
              f"ReLU margin {margin:.1e}; picture in [{float(u.min()):.4f}, {float(u.max()):.4f}] "
              f"({time.time() - t0:.1f} s)")


def main():
    torch.set_num_threads(THREADS)  # a fixed reduction order
    t0 = time.time()
    tensors = {}
    meta = {"kind": "feature_vis", "model": "ZFNet28<10>", "formula_seed": str(SEED), "seed": str(SEED),
            "steps": str(STEPS), "mean": repr(MEAN), "std": repr(STD), "lr": repr(LR)}
    transform_group(tensors)
    param_group(tensors)
    adam_group(tensors)
    vis_group(tensors, meta)
    for k, v in tensors.items():
        assert v.dtype == DT and torch.isfinite(v).all(), k
    write_safetensors("feature_vis.safetensors", tensors, meta)
    print(f"wrote feature_vis.safetensors ({len(tensors)} tensors) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
