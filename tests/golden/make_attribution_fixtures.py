#!/usr/bin/env python3
"""Golden fixtures for the attribution suite (issue 19).

    /usr/bin/python3 tests/golden/make_attribution_fixtures.py

Needs Debian's python3-torch and python3-torchvision (the formula is make_zoo_fixtures.py's); the C++ tests never do.  Deterministic: a fixed
thread count and fixed seeds, so a re-run with the same PyTorch gives byte-identical files.
Numerics as make_fixtures.py: every value is created in float64 and rounded to float32 (the formula
weights and input, the metric maps), every reference is computed in float64 from those values, and
the results are stored as F32 (targets and sample indices as I64).

Networks: ZFNet28<10> (1x28x28) and ZFNet<10> (ZFNetOf<10,384,384,256>, 3x224x224), with the
geometry of include/convis/models/zfnet.hpp (pools 3x3/2 ceil mode, LRN(5, 1e-4, 0.75, 2) as
torch.nn.LocalResponseNorm — checked against make_fixtures.naive_lrn — eval mode: dropout is the
identity).  Weights and input: the formula of make_zoo_fixtures.py with SEED = 19 (value i of the
tensor named N is from uniform(stream(19, fnv1a64(N)), i); "<layer>.weight" He uniform with fan_in =
in*kh*kw (conv) or in (linear), "<layer>.bias" 0.2(u - 0.5), "input" 2u - 1 over the whole
[N,C,H,W] tensor).

Methods (the definitions of the attribution spec; y_c is the target's logit, p_c its softmax):

  gradcam, gradcam++, layercam, scorecam   [N,H,W], CAM layer relu5, bilinear up-sampling
                                           (align_corners=False), no normalisation of the result
  guided-gradcam                           guided-backprop * gradcam (broadcast over C)
  saliency, input-x-gradient               |dy_c/dx|, x * dy_c/dx
  integrated-gradients                     baseline 0, right Riemann sum over `steps` points
  smoothgrad, vargrad                      base saliency; noise from counter_random (below)
  deconvnet, guided-backprop               one-hot(c) at the logits projected to the pixels.
                                           deconvnet: ReLU passes relu(g), LRN is skipped (identity)
                                           in the backward pass (its forward is applied as usual);
                                           guided: relu(g)*[y>0], LRN's true backward.  Max-pools
                                           unpool through the forward's switches (PyTorch's ceil-mode
                                           max_pool2d indices, first maximum in row-major order;
                                           overlapping windows that chose the same input add), conv
                                           and linear pass g through their transposed weights.

All gradient-based maps (Grad-CAM family, saliency, IG, SmoothGrad) use the true backward
(ReLU g*[y>0], LRN's VJP).  Score-CAM's weights are softmax(f(x * M_k))_c with M_k the min-max
normalised up-sampled channel k of relu5 (0 where the channel is constant).

SmoothGrad noise, image b (position in the batch), sample s, element i of the flattened C*H*W image:
st = stream(seed, (b << 32) | s), u1 = uniform(st, 2i), u2 = uniform(st, 2i+1),
eps = sigma * sqrt(-2 ln(1 - u1)) * cos(2 pi u2), sigma = noise * (max x_b - min x_b).  The noisy
image x + eps is kept in float64 (not rounded to float32).

Files: attribution_zfnet28.safetensors (N = 2, full maps, plus the metrics: deletion / insertion
curves and AUCs, average drop / increase, Spearman rank correlation, SSIM) and
attribution_zfnet.safetensors (N = 1, each map sampled as make_zoo_fixtures.py does: the 1024 flat
indices of largest magnitude within image 0, then 1024 evenly strided ones, the values there and
the map's sum of squares).  README.md has the tensor names.
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
from make_fixtures import naive_lrn, write_safetensors  # noqa: E402
import make_zoo_fixtures as zoo  # noqa: E402
from make_zoo_fixtures import stream, uniform  # noqa: E402

DT = torch.float64
SEED = 19
THREADS = 2

LRN_ARGS = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
METHODS = ["gradcam", "gradcam++", "layercam", "scorecam", "guided-gradcam", "saliency",
           "input-x-gradient", "integrated-gradients", "smoothgrad", "vargrad", "deconvnet",
           "guided-backprop"]


def f32(t):
    return t.to(torch.float32).to(DT)


# ---------------------------------------------------------------------------------------------
# counter_random (include/convis/core/counter_random.hpp) and the formula: make_zoo_fixtures.py's
# ---------------------------------------------------------------------------------------------
def formula(name, shape, fan_in):
    return zoo.formula(name, shape, fan_in, SEED)


# ---------------------------------------------------------------------------------------------
# the networks (include/convis/models/zfnet.hpp)
# ---------------------------------------------------------------------------------------------
def zf_arch(cin, c1, k1, s1, p1, c2, k2, s2, p2, c3, c4, c5, fc_in, fc, classes):
    return [
        ("conv1", "conv", cin, c1, k1, s1, p1), ("relu1", "relu"), ("pool1", "pool"), ("norm1", "lrn"),
        ("conv2", "conv", c1, c2, k2, s2, p2), ("relu2", "relu"), ("pool2", "pool"), ("norm2", "lrn"),
        ("conv3", "conv", c2, c3, 3, 1, 1), ("relu3", "relu"),
        ("conv4", "conv", c3, c4, 3, 1, 1), ("relu4", "relu"),
        ("conv5", "conv", c4, c5, 3, 1, 1), ("relu5", "relu"), ("pool5", "pool"),
        ("flatten", "flatten"),
        ("drop6", "drop"), ("fc6", "linear", fc_in, fc), ("relu6", "relu"),
        ("drop7", "drop"), ("fc7", "linear", fc, fc), ("relu7", "relu"),
        ("fc8", "linear", fc, classes),
    ]


ZFNET28 = zf_arch(1, 32, 3, 1, 1, 64, 3, 1, 1, 128, 128, 64, 64 * 3 * 3, 256, 10)
ZFNET = zf_arch(3, 96, 7, 2, 1, 256, 5, 2, 0, 384, 384, 256, 256 * 6 * 6, 4096, 10)


class Net:
    def __init__(self, arch):
        self.arch = arch
        self.names = [l[0] for l in arch]
        self.P = {}
        for l in arch:
            if l[1] == "conv":
                _, _, cin, cout, k, _, _ = l
                self.P[l[0] + ".weight"] = formula(l[0] + ".weight", (cout, cin, k, k), cin * k * k)
                self.P[l[0] + ".bias"] = formula(l[0] + ".bias", (cout,), 1)
            elif l[1] == "linear":
                _, _, fin, fout = l
                self.P[l[0] + ".weight"] = formula(l[0] + ".weight", (fout, fin), fin)
                self.P[l[0] + ".bias"] = formula(l[0] + ".bias", (fout,), 1)

    def index(self, name):
        return self.names.index(name)

    def run(self, h, mode="gradient", start=0, stop=None, record=None):
        """Layers start..stop-1 on h.  mode: gradient | deconvnet | guided (the backward rules)."""
        stop = len(self.arch) if stop is None else stop
        for l in self.arch[start:stop]:
            name, op = l[0], l[1]
            if record is not None:
                record.setdefault("in", {})[name] = h
            if op == "conv":
                h = F.conv2d(h, self.P[name + ".weight"], self.P[name + ".bias"], stride=l[5], padding=l[6])
            elif op == "relu":
                h = F.relu(h) if mode == "gradient" else Rectify.apply(h, mode)
            elif op == "pool":
                if record is not None:
                    h, record.setdefault("ind", {})[name] = F.max_pool2d(h, 3, 2, ceil_mode=True,
                                                                         return_indices=True)
                else:
                    h = F.max_pool2d(h, 3, 2, ceil_mode=True)
            elif op == "lrn":
                h = LRNSkip.apply(h) if mode == "deconvnet" else lrn(h)
            elif op == "flatten":
                h = h.flatten(1)
            elif op == "drop":
                pass
            elif op == "linear":
                h = F.linear(h, self.P[name + ".weight"], self.P[name + ".bias"])
            if record is not None:
                record.setdefault("out", {})[name] = h
        return h

    def logits(self, x, chunk=16):
        with torch.no_grad():
            return torch.cat([self.run(x[i:i + chunk]) for i in range(0, x.shape[0], chunk)])

    def prob(self, x, target, chunk=16):
        """p_c of each image of x; target: one class for all, or one per image."""
        p = torch.softmax(self.logits(x, chunk), dim=1)
        t = torch.full((x.shape[0],), target) if isinstance(target, int) else target
        return p[torch.arange(x.shape[0]), t]


def lrn(x):
    return F.local_response_norm(x, **LRN_ARGS)


class Rectify(torch.autograd.Function):
    """ReLU whose backward is the deconvnet's relu(g) or guided backprop's relu(g)*[y>0]."""

    @staticmethod
    def forward(ctx, x, mode):
        y = x.clamp(min=0)
        ctx.mode = mode
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if ctx.mode == "deconvnet":
            return g.clamp(min=0), None
        assert ctx.mode == "guided"
        return g.clamp(min=0) * (y > 0), None


class LRNSkip(torch.autograd.Function):
    """LRN forward, identity backward: the deconvnet skips the contrast normalisation."""

    @staticmethod
    def forward(ctx, x):
        return lrn(x)

    @staticmethod
    def backward(ctx, g):
        return g


def target_sum(logits, target):
    return logits.gather(1, target[:, None]).sum()


def input_grad(net, x, target, mode="gradient"):
    """d y_c / d x per image (images are independent, so the batch's sum of y_c gives them all)."""
    xi = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(target_sum(net.run(xi, mode), target), xi)
    return g


def up(m, H, W):
    return F.interpolate(m, size=(H, W), mode="bilinear", align_corners=False)


# ---------------------------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------------------------
def cam_inputs(net, x, target, layer):
    """A = layer's output (detached leaf), G = dy_c/dA."""
    k = net.index(layer) + 1
    with torch.no_grad():
        A = net.run(x, stop=k)
    A = A.detach().requires_grad_()
    (G,) = torch.autograd.grad(target_sum(net.run(A, start=k), target), A)
    return A.detach(), G


def gradcam(A, G, H, W):
    w = G.mean(dim=(2, 3), keepdim=True)
    return up(F.relu((w * A).sum(1, keepdim=True)), H, W)[:, 0]


def gradcam_pp(A, G, H, W):
    g2, g3 = G ** 2, G ** 3
    s = A.sum(dim=(2, 3), keepdim=True)
    a = g2 / (2 * g2 + s * g3 + 1e-7)
    a = torch.where(G != 0, a, torch.zeros_like(a))
    w = (F.relu(G) * a).sum(dim=(2, 3), keepdim=True)
    return up(F.relu((w * A).sum(1, keepdim=True)), H, W)[:, 0]


def layercam(A, G, H, W):
    return up(F.relu((F.relu(G) * A).sum(1, keepdim=True)), H, W)[:, 0]


def scorecam(net, x, target, A, chunk):
    N, C, H, W = x.shape
    K = A.shape[1]
    M = up(A, H, W)
    lo = M.amin(dim=(2, 3), keepdim=True)
    hi = M.amax(dim=(2, 3), keepdim=True)
    span = hi - lo
    M = torch.where(span > 0, (M - lo) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(M))
    w = torch.empty(N, K, dtype=DT)
    for b in range(N):
        masked = x[b:b + 1] * M[b][:, None]  # [K, C, H, W]
        w[b] = net.prob(masked, int(target[b]), chunk)
    constant = int((span[..., 0, 0] == 0).sum())
    cam = up(F.relu((w[:, :, None, None] * A).sum(1, keepdim=True)), H, W)[:, 0]
    return cam, constant


def integrated_gradients(net, x, target, steps, baseline=0.0):
    base = torch.full_like(x, baseline)
    total = torch.zeros_like(x)
    for k in range(1, steps + 1):
        total += input_grad(net, base + (k / steps) * (x - base), target)
    return (x - base) * total / steps


def relu_margin(net, x):
    """The smallest |pre-ReLU value| relative to its layer's largest, over the images of x: a value
    this close to 0 may take the other side in float32, and the gradient through it jumps."""
    rec = {}
    with torch.no_grad():
        net.run(x, record=rec)
    worst = float("inf")
    for name, h in rec["in"].items():
        if net.arch[net.index(name)][1] != "relu":
            continue
        for b in range(h.shape[0]):
            scale = float(h[b].abs().max())
            worst = min(worst, float(h[b].abs().min()) / scale)
    return worst


def ig_path(x, steps, baseline=0.0):
    base = torch.full_like(x, baseline)
    return torch.cat([base + (k / steps) * (x - base) for k in range(1, steps + 1)])


def noise(x, b, s, seed, level):
    n = x[b].numel()
    u = uniform(stream(seed, (b << 32) | s), 2 * n)
    u1, u2 = u[0::2], u[1::2]
    z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    sigma = level * float(x[b].max() - x[b].min())
    return torch.from_numpy(sigma * z).reshape(x[b].shape)


def smooth(net, x, target, samples, level, seed):
    """SmoothGrad and VarGrad with base = saliency."""
    m1 = torch.zeros_like(x)
    m2 = torch.zeros_like(x)
    for s in range(samples):
        eps = torch.stack([noise(x, b, s, seed, level) for b in range(x.shape[0])])
        g = input_grad(net, x + eps, target).abs()
        m1 += g
        m2 += g * g
    mean = m1 / samples
    return mean, m2 / samples - mean * mean


def all_methods(net, x, target, layer, steps, samples, level, seed, chunk):
    H, W = x.shape[2:]
    A, G = cam_inputs(net, x, target, layer)
    out = {}
    out["gradcam"] = gradcam(A, G, H, W)
    out["gradcam++"] = gradcam_pp(A, G, H, W)
    out["layercam"] = layercam(A, G, H, W)
    t = time.time()
    out["scorecam"], constant = scorecam(net, x, target, A, chunk)
    print(f"  scorecam: {A.shape[1]} channels x {x.shape[0]} images, {constant} constant, "
          f"{time.time() - t:.1f} s", flush=True)
    g = input_grad(net, x, target)
    out["saliency"] = g.abs()
    out["input-x-gradient"] = x * g
    out["integrated-gradients"] = integrated_gradients(net, x, target, steps)
    out["smoothgrad"], out["vargrad"] = smooth(net, x, target, samples, level, seed)
    out["deconvnet"] = input_grad(net, x, target, "deconvnet")
    out["guided-backprop"] = input_grad(net, x, target, "guided")
    out["guided-gradcam"] = out["guided-backprop"] * out["gradcam"][:, None]
    assert sorted(out) == sorted(METHODS)
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
        for b in range(v.shape[0]):
            assert v[b].abs().max() > 0, (k, b)
    return out, A, G


# ---------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------
def order_of(S):
    """Pixel positions by S descending; ties keep the lower flat index first."""
    return np.argsort(-S.reshape(-1).numpy(), kind="stable")


def trapezoid(xs, ys):
    return sum((xs[k + 1] - xs[k]) * (ys[k] + ys[k + 1]) / 2 for k in range(len(xs) - 1))


def removal_curves(net, x, target, S, T, fill):
    N, C, H, W = x.shape
    HW = H * W
    P = -(-HW // T)
    counts = [min(k * P, HW) for k in range(T + 1)]
    xs = [n / HW for n in counts]
    dele = torch.empty(N, T + 1, dtype=DT)
    ins = torch.empty(N, T + 1, dtype=DT)
    for b in range(N):
        order = torch.from_numpy(order_of(S[b]))
        src = x[b].reshape(C, HW)
        d_imgs, i_imgs = [], []
        for n in counts:
            d = src.clone()
            d[:, order[:n]] = fill
            i = torch.full_like(src, fill)
            i[:, order[:n]] = src[:, order[:n]]
            d_imgs.append(d.view(C, H, W))
            i_imgs.append(i.view(C, H, W))
        dele[b] = net.prob(torch.stack(d_imgs), int(target[b]))
        ins[b] = net.prob(torch.stack(i_imgs), int(target[b]))
    auc = lambda c: torch.tensor([trapezoid(xs, c[b].tolist()) for b in range(N)], dtype=DT)
    return dele, auc(dele), ins, auc(ins)


def average_drop(net, x, target, S, fill):
    lo = S.amin(dim=(1, 2), keepdim=True)
    hi = S.amax(dim=(1, 2), keepdim=True)
    span = hi - lo
    E = torch.where(span > 0, (S - lo) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(S))
    xE = fill + E[:, None] * (x - fill)
    Y = net.prob(x, target)
    O = net.prob(xE, target)
    drop = torch.clamp(Y - O, min=0) / Y
    inc = (O > Y).to(DT)
    return drop, (100 * drop.mean()).reshape(1), (100 * inc.mean()).reshape(1), Y, O


def average_ranks(v):
    """1-based ranks, ties get their mean rank."""
    vals, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    start = np.cumsum(counts) - counts  # 0-based first position of each distinct value
    return (start + (counts + 1) / 2.0)[inverse]


def spearman(a, b):
    ra = average_ranks(a.reshape(-1).numpy())
    rb = average_ranks(b.reshape(-1).numpy())
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / math.sqrt((ra * ra).sum() * (rb * rb).sum()))


def gauss_window(size=11, sigma=1.5):
    r = torch.arange(size, dtype=DT) - (size - 1) / 2
    g = torch.exp(-r * r / (2 * sigma * sigma))
    w = g[:, None] * g[None, :]
    return w / w.sum()


def minmax01(m):
    lo, hi = m.min(), m.max()
    return (m - lo) / (hi - lo) if hi > lo else torch.zeros_like(m)


def ssim(a, b, C1=0.01 ** 2, C2=0.03 ** 2):
    a, b = minmax01(a)[None, None], minmax01(b)[None, None]
    w = gauss_window()[None, None]
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    saa = F.conv2d(a * a, w) - mu_a ** 2
    sbb = F.conv2d(b * b, w) - mu_b ** 2
    sab = F.conv2d(a * b, w) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + C1) * (2 * sab + C2)) / ((mu_a ** 2 + mu_b ** 2 + C1) * (saa + sbb + C2))
    return float(s.mean())


# ---------------------------------------------------------------------------------------------
# self-checks (printed / asserted, not stored)
# ---------------------------------------------------------------------------------------------
def check_lrn(net, x):
    rec = {}
    with torch.no_grad():
        net.run(x, record=rec)
    for name in ("norm1", "norm2"):
        xin = rec["in"][name]
        ref = naive_lrn(xin, LRN_ARGS["size"], LRN_ARGS["alpha"], LRN_ARGS["beta"], LRN_ARGS["k"])
        assert np.allclose(ref, rec["out"][name].numpy(), rtol=1e-12, atol=1e-14), name


def walk(net, x, target, mode):
    """The deconvnet / guided projection by explicit per-layer rules (make_deconv_fixtures.py)."""
    rec = {}
    with torch.no_grad():
        logits = net.run(x, record=rec)
    g = F.one_hot(target, logits.shape[1]).to(DT)
    for l in reversed(net.arch):
        name, op = l[0], l[1]
        xin = rec["in"][name]
        if op == "conv":
            g = torch.nn.grad.conv2d_input(xin.shape, net.P[name + ".weight"], g, stride=l[5], padding=l[6])
        elif op == "relu":
            g = F.relu(g) if mode == "deconvnet" else F.relu(g) * (rec["out"][name] > 0)
        elif op == "pool":
            N, C, H, W = xin.shape
            g = torch.zeros(N, C, H * W, dtype=DT).scatter_add_(2, rec["ind"][name].flatten(2), g.flatten(2))
            g = g.view(N, C, H, W)
        elif op == "lrn" and mode != "deconvnet":
            xr = xin.detach().clone().requires_grad_()
            (g,) = torch.autograd.grad(lrn(xr), xr, g)
        elif op == "flatten":
            g = g.view(xin.shape)
        elif op == "linear":
            g = g @ net.P[name + ".weight"]
        assert g.shape == xin.shape, name
    return g


def hand_bilinear(m, H, W):
    """align_corners=False bilinear up-sampling of one [h, w] map, by loops."""
    h, w = m.shape
    out = torch.empty(H, W, dtype=DT)
    for Y in range(H):
        sy = max((Y + 0.5) * h / H - 0.5, 0.0)
        y0 = min(int(math.floor(sy)), h - 1)
        y1 = min(y0 + 1, h - 1)
        fy = sy - y0
        for X in range(W):
            sx = max((X + 0.5) * w / W - 0.5, 0.0)
            x0 = min(int(math.floor(sx)), w - 1)
            x1 = min(x0 + 1, w - 1)
            fx = sx - x0
            out[Y, X] = ((1 - fy) * ((1 - fx) * m[y0, x0] + fx * m[y0, x1])
                         + fy * ((1 - fx) * m[y1, x0] + fx * m[y1, x1]))
    return out


def check_gradcam_loop(A, G, cam, H, W):
    """Grad-CAM of image 0 by plain loops over k, i, j."""
    K, h, w = A.shape[1:]
    a, g = A[0].tolist(), G[0].tolist()
    weights = []
    for k in range(K):
        s = 0.0
        for i in range(h):
            for j in range(w):
                s += g[k][i][j]
        weights.append(s / (h * w))
    small = torch.empty(h, w, dtype=DT)
    for i in range(h):
        for j in range(w):
            s = 0.0
            for k in range(K):
                s += weights[k] * a[k][i][j]
            small[i, j] = max(s, 0.0)
    ref = hand_bilinear(small, H, W)
    err = float((ref - cam[0]).abs().max() / cam[0].abs().max())
    print(f"  check: gradcam vs hand loop (image 0): rel err {err:.2e}")
    assert err < 1e-12


def check_ig_completeness(net, x, target, steps):
    ig = integrated_gradients(net, x, target, steps)
    y = net.logits(x).gather(1, target[:, None])[:, 0]
    y0 = net.logits(torch.zeros_like(x)).gather(1, target[:, None])[:, 0]
    for b in range(x.shape[0]):
        s = float(ig[b].sum())
        d = float(y[b] - y0[b])
        print(f"  check: IG completeness ({steps} steps) image {b}: sum IG = {s:.6f}, "
              f"y_c(x) - y_c(0) = {d:.6f}, diff {s - d:+.2e}")


def report(out):
    for k in METHODS:
        v = out[k]
        per = ", ".join(f"{float(v[b].abs().max()):.3e}/{float((v[b] != 0).double().mean()):.2f}"
                        for b in range(v.shape[0]))
        print(f"  {k:22s} {tuple(v.shape)} max|v|/nonzero fraction per image: {per}")


def samples(p):
    """make_zoo_fixtures.samples: the 1024 largest |p|, then 1024 evenly strided flat indices."""
    flat = p.reshape(-1)
    n = flat.numel()
    big = torch.argsort(flat.abs(), descending=True, stable=True)[:1024]
    even = torch.arange(0, n, n // 1024)[:1024]
    idx = torch.cat([big, even])
    return idx, flat[idx]


# ---------------------------------------------------------------------------------------------
# the two files
# ---------------------------------------------------------------------------------------------
def zfnet28_case():
    t0 = time.time()
    print("ZFNet28<10>, N = 2", flush=True)
    net = Net(ZFNET28)
    x = formula("input", (2, 1, 28, 28), 1)
    target = torch.tensor([3, 7], dtype=torch.int64)
    layer, steps, samples_, level, seed = "relu5", 8, 4, 0.15, 7
    check_lrn(net, x)
    # How near 0 the pre-ReLU values come (relative to their layer's largest): float32 flips a
    # ReLU within about 3e-7, and the gradient through that unit jumps; the C++ test runs these
    # references in double (tests/test_attribution.cpp).
    print(f"  IG path: ReLU margin {relu_margin(net, ig_path(x, steps)):.2e}")
    for s in range(samples_):
        noisy = x + torch.stack([noise(x, b, s, seed, level) for b in range(x.shape[0])])
        print(f"  SmoothGrad sample {s}: ReLU margin {relu_margin(net, noisy):.2e}")
    print(f"  input: ReLU margin {relu_margin(net, x):.2e}")
    logits = net.logits(x)
    print("  logits:", [[round(v, 6) for v in row] for row in logits.tolist()])

    out, A, G = all_methods(net, x, target, layer, steps, samples_, level, seed, chunk=64)
    report(out)
    check_gradcam_loop(A, G, out["gradcam"], 28, 28)
    for mode, key in (("deconvnet", "deconvnet"), ("guided", "guided-backprop")):
        err = float((walk(net, x, target, mode) - out[key]).abs().max() / out[key].abs().max())
        print(f"  check: {key} autograd vs explicit walk: rel err {err:.2e}")
        assert err < 1e-12
    check_ig_completeness(net, x, target, 512)
    assert torch.equal(input_grad(net, x, target, "guided"), out["guided-backprop"])

    tensors = {"input": x, "target": target, "logits": logits}
    tensors.update(out)

    # metrics
    gen = torch.Generator().manual_seed(1919)
    S = f32(torch.rand(2, 28, 28, dtype=DT, generator=gen))
    for b in range(2):
        assert S[b].unique().numel() == 28 * 28
    dcurve, dauc, icurve, iauc = removal_curves(net, x, target, S, 8, 0.0)
    drop, avg, inc, Y, O = average_drop(net, x, target, S, 0.0)
    print(f"  deletion curves {[[round(v, 5) for v in r] for r in dcurve.tolist()]} auc {dauc.tolist()}")
    print(f"  insertion curves {[[round(v, 5) for v in r] for r in icurve.tolist()]} auc {iauc.tolist()}")
    print(f"  drop: Y {Y.tolist()} O {O.tolist()} per image {drop.tolist()} average {avg.item():.4f}% "
          f"increase {inc.item():.1f}%")
    assert (dcurve[:, 0] - Y).abs().max() < 1e-12 and (icurve[:, -1] - Y).abs().max() < 1e-12
    # The predicted class (6 in both images): here masking lowers the probability, the other branch.
    t6 = torch.tensor([6, 6], dtype=torch.int64)
    drop6, avg6, inc6, Y6, O6 = average_drop(net, x, t6, S, 0.0)
    print(f"  drop (target 6): Y {Y6.tolist()} O {O6.tolist()} average {avg6.item():.4f}% increase {inc6.item():.1f}%")
    assert (O6 < Y6).all()
    tensors.update({"drop6.per_image": drop6, "drop6.average": avg6, "drop6.increase": inc6})
    tensors.update({"del.map": S, "deletion.curve": dcurve, "deletion.auc": dauc, "insertion.curve": icurve,
                    "insertion.auc": iauc, "drop.per_image": drop, "drop.average": avg, "drop.increase": inc})

    # similarity
    a = f32(torch.rand(2, 28, 28, dtype=DT, generator=gen))
    b = f32(a + 0.2 * torch.rand(2, 28, 28, dtype=DT, generator=gen))
    zeros = int(0.3 * 28 * 28)
    for i in range(2):
        flat = b[i].view(-1)
        flat[torch.from_numpy(np.argsort(flat.numpy(), kind="stable")[:zeros])] = 0.0
    rho = torch.tensor([spearman(a[i], b[i]) for i in range(2)], dtype=DT)
    ss = torch.tensor([ssim(a[i], b[i]) for i in range(2)], dtype=DT)
    assert abs(spearman(a[0], a[0]) - 1) < 1e-12 and abs(ssim(a[0], a[0]) - 1) < 1e-12
    print(f"  sim: {zeros} zeros per image in b; spearman {rho.tolist()} ssim {ss.tolist()}")
    tensors.update({"sim.a": a, "sim.b": b, "sim.spearman": rho, "sim.ssim": ss})

    meta = {"kind": "attribution", "model": "ZFNet28<10>", "formula_seed": str(SEED),
            "methods": ",".join(METHODS), "layer": layer, "steps": str(steps), "baseline": "0",
            "samples": str(samples_), "noise": repr(level), "seed": str(seed), "base": "saliency",
            "del.steps": "8", "del.fill": "0"}
    for v in tensors.values():
        if v.is_floating_point():
            assert torch.isfinite(v).all()
    write_safetensors("attribution_zfnet28.safetensors", tensors, meta)
    print(f"  wrote attribution_zfnet28.safetensors ({time.time() - t0:.1f} s)", flush=True)


def zfnet_case():
    t0 = time.time()
    print("ZFNet<10>, N = 1, 3x224x224", flush=True)
    net = Net(ZFNET)
    print(f"  formula weights: {time.time() - t0:.1f} s", flush=True)
    x = formula("input", (1, 3, 224, 224), 1)
    target = torch.tensor([5], dtype=torch.int64)
    layer, steps, samples_, level, seed = "relu5", 16, 2, 0.15, 7
    check_lrn(net, x)
    logits = net.logits(x)
    print("  logits:", [round(v, 6) for v in logits[0].tolist()], flush=True)

    out, A, G = all_methods(net, x, target, layer, steps, samples_, level, seed, chunk=16)
    report(out)
    tensors = {"target": target, "logits": logits}
    for k in METHODS:
        idx, val = samples(out[k][0])
        tensors[f"{k}/index"] = idx.to(torch.int64)
        tensors[f"{k}/value"] = val
        tensors[f"{k}/sumsq"] = (out[k] ** 2).sum().reshape(1)
    meta = {"kind": "attribution", "model": "ZFNet<10>", "formula_seed": str(SEED),
            "methods": ",".join(METHODS), "layer": layer, "steps": str(steps), "baseline": "0",
            "samples": str(samples_), "noise": repr(level), "seed": str(seed), "base": "saliency"}
    write_safetensors("attribution_zfnet.safetensors", tensors, meta)
    print(f"  wrote attribution_zfnet.safetensors ({time.time() - t0:.1f} s)", flush=True)


def main():
    """No arguments: both files; otherwise "zfnet28" and/or "zfnet"."""
    torch.set_num_threads(THREADS)  # a fixed reduction order
    wanted = sys.argv[1:] or ["zfnet28", "zfnet"]
    t0 = time.time()
    if "zfnet28" in wanted:
        zfnet28_case()
    if "zfnet" in wanted:
        zfnet_case()
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
