#!/usr/bin/env python3
"""PyTorch's equivalents of bench/gpu_bench.cpp's workloads on the same GPU, as JSON on stdout.

PyTorch at its best there, within plain float: cudnn.benchmark on (fastest algorithms by
measurement), TF32 off for convolutions and matrix products (convis's default agrees with the CPU
to 1e-4; TF32 does not), the faster of NCHW and channels_last per workload. Each timed iteration
ends with torch.cuda.synchronize(), as convis's copy of the result to the host waits for the GPU.

    python3 bench/pytorch_gpu.py [--repeat 20]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pytorch_zfnet import INPUT_SIZE, NUM_CLASSES, build_zfnet  # noqa: E402


def timed(step, repeat: int) -> float:
    """Median seconds of one step, after warm-up."""
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def model_for(layout: str, train: bool) -> nn.Sequential:
    torch.manual_seed(0)
    m = build_zfnet(NUM_CLASSES).cuda()
    if layout == "channels_last":
        m = m.to(memory_format=torch.channels_last)
    return m.train(train)


def images(batch: int, layout: str) -> torch.Tensor:
    x = torch.randn(batch, 3, INPUT_SIZE, INPUT_SIZE, device="cuda")
    return x.contiguous(memory_format=torch.channels_last) if layout == "channels_last" else x


def forward_step(batch, layout):
    m, x = model_for(layout, False), images(batch, layout)

    def step():
        with torch.inference_mode():
            m(x).cpu()
    return step


def train_step(batch, layout, update: bool):
    m, x = model_for(layout, True), images(batch, layout)
    target = torch.randint(0, NUM_CLASSES, (batch,), device="cuda")
    opt = torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9)
    convs = [l.weight for l in m if isinstance(l, nn.Conv2d)]

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(m(x), target)
        loss.backward()
        if update:
            opt.step()
            with torch.no_grad():  # the paper's filter renormalisation, radius 0.1
                for w in convs:
                    rms = w.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
                    w.mul_(torch.where(rms > 0.1, 0.1 / rms, torch.ones_like(rms)))
        loss.item()
    return step


def project_step(batch, layout):
    """The deconvnet walk from pool5's strongest channel-0 activation down to pixels."""
    m, x = model_for(layout, False), images(batch, layout)
    walk = []
    with torch.inference_mode():
        h = x
        for layer in list(m)[:15]:
            size = h.shape[-2:]
            if isinstance(layer, nn.MaxPool2d):
                h, idx = F.max_pool2d(h, layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode,
                                      return_indices=True)
                walk.append(lambda s, l=layer, idx=idx, size=size: F.max_unpool2d(s, idx, l.kernel_size, l.stride,
                                                                                  l.padding, output_size=size))
            elif isinstance(layer, nn.Conv2d):
                h = layer(h)
                (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
                pad = (size[0] - ((h.shape[-2] - 1) * sh - 2 * ph + kh), size[1] - ((h.shape[-1] - 1) * sw - 2 * pw + kw))
                walk.append(lambda s, l=layer, pad=pad: F.conv_transpose2d(s, l.weight, None, l.stride, l.padding, pad))
            elif isinstance(layer, nn.ReLU):
                h = layer(h)
                walk.append(lambda s: F.relu(s))
            else:
                h = layer(h)  # LRN: skipped by the deconvnet
        walk.reverse()
        n, c = h.shape[:2]
        act = h[:, 0].reshape(n, -1)
        where = act.argmax(1)
        signal = torch.zeros_like(h).contiguous()
        signal.view(n, c, -1)[torch.arange(n), 0, where] = act[torch.arange(n), where]

    def step():
        with torch.inference_mode():
            s = signal
            for op in walk:
                s = op(s)
            s.cpu()
    return step


def occlusion_step(batch, layout):
    """529 occluded copies (48×48 every 8 px) through the network in batches, probabilities to host."""
    m, x = model_for(layout, False), images(1, layout)
    corners = [(r, c) for r in range(0, INPUT_SIZE - 48 + 1, 8) for c in range(0, INPUT_SIZE - 48 + 1, 8)]

    def step():
        with torch.inference_mode():
            out = []
            for i in range(0, len(corners), batch):
                chunk = corners[i:i + batch]
                xs = x.expand(len(chunk), -1, -1, -1).clone(memory_format=torch.preserve_format)
                for k, (r, c) in enumerate(chunk):
                    xs[k, :, r:r + 48, c:c + 48] = 0
                out.append(F.softmax(m(xs), dim=1).cpu())
    return step, len(corners)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"error": "PyTorch sees no CUDA device"}))
        return 77
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "cudnn": torch.backends.cudnn.version(), "workloads": {}}
    work = {
        "forward/1": (lambda l: forward_step(1, l), 1),
        "forward/128": (lambda l: forward_step(128, l), 128),
        "train/128": (lambda l: train_step(128, l, False), 128),
        "train+sgd/128": (lambda l: train_step(128, l, True), 128),
        "project/1": (lambda l: project_step(1, l), 1),
        "occlusion/64": (None, None),
    }
    for name, (make, items) in work.items():
        best = None
        for layout in ("nchw", "channels_last"):
            if name == "occlusion/64":
                step, items = occlusion_step(64, layout)
            else:
                step = make(layout)
            t = timed(step, args.repeat if name != "occlusion/64" else max(3, args.repeat // 4))
            if best is None or t < best[0]:
                best = (t, layout)
            del step
            torch.cuda.empty_cache()
        results["workloads"][name] = {"seconds": best[0], "layout": best[1], "items": items,
                                      "items_per_second": items / best[0]}
        print(f"pytorch {name}: {best[0] * 1e3:.3f} ms ({best[1]})", file=sys.stderr)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
