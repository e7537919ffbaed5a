#!/usr/bin/env python3
"""Compare convis' feature visualisation with PyTorch's on this machine.

What
    The same optimisation on both sides: 16 pictures, one per channel objective (channels 0..15)
    at conv5, optimised together as one batch of 16 for 16 steps.  Per step:

    1. u = the picture of the parameters p, as lucent's ``fft_image`` + ``to_valid_rgb``:
          fourier  p [16, C, H, W//2+1, 2] ~ N(0, 0.01^2); scale = 1 / max(|f|, 1/max(H, W))
                   (|f| from numpy's fftfreq, as ``rfft2d_freqs``);
                   y = torch.fft.irfftn(view_as_complex(scale * p), s=(H, W), norm="ortho") / 4
          pixel    p [16, C, H, W] ~ N(0, 0.01^2); y = p
       then, for 3 channels, lucid's colour decorrelation (y_pixel @ M.T, M = the
       color_correlation_svd_sqrt matrix over its largest column norm), and u = sigmoid(y);
    2. one random affine transformation per step (jitter of +-round(H/16) whole pixels, scale
       0.9..1.1, rotation +-10 degrees, about the centre; PyTorch draws its own parameters: only the
       work has to match): v = grid_sample(u - 0.5, affine_grid(theta), bilinear, zeros,
       align_corners=False) + 0.5;
    3. x = (v - mean) / std (Fashion-MNIST's 0.286 / 0.353 for ZFNet28, ImageNet's for ZFNet);
    4. the network up to conv5's output (PyTorch stops there; convis runs its whole network);
    5. loss = -mean over the batch of each picture's own channel mean at conv5;
    6. the gradient to p only (model parameters ``requires_grad=False``, eval mode);
    7. one Adam step (lr 0.05; ``torch.optim.Adam`` in PyTorch).
    A call ends with the final pictures' forward (the objectives' values), as
    ``convis::visualise_features`` does.

    Workloads (convis: bench/feature_vis_bench.cpp, ``--convis-bench``, default
    ``<repo>/build/bin/convis_feature_vis_bench``):
        zfnet28        ZFNet28<10>, 1x28x28, Fourier      BM_FeatureVis_ZFNet28_Fourier/steps:16
        zfnet-fourier  ZFNet<10>, 3x224x224, Fourier      BM_FeatureVis_ZFNet_Fourier/steps:16
        zfnet-pixel    ZFNet<10>, 3x224x224, pixel        BM_FeatureVis_ZFNet_Pixel/steps:16
    The PyTorch networks have the geometry of include/convis/models/zfnet.hpp (checked by their
    spatial sizes) and He-initialised weights.  Neither side's weights are trained: the
    pictures mean nothing, the work is the same.

    The measure is milliseconds per step: a whole 16-step call (repeated until it has run for
    ``--seconds``) over 16.  ``--rounds`` rounds alternate the two sides: in each, the convis
    program runs every workload (one Google Benchmark repetition of at least ``--seconds``, JSON
    out), then one PyTorch worker runs every workload in every layout (NCHW and channels_last).
    The figures are the medians over the rounds, PyTorch's in its fastest layout, and the
    ratio is convis time / PyTorch time (the project's measure; below 1: convis is faster).

Why like this
    PyTorch runs at its best, as bench/compare_pytorch.py arranges it (its ``torch_env``): a child
    process with ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` removed, jemalloc preloaded with
    ``MALLOC_CONF`` keeping freed pages, every thread pool at the usable core count, the faster
    of NCHW and channels_last; ``--capabilities`` and ``--wait-policies`` can widen the search to
    ATen's AVX-512 kernels and a passive OpenMP wait (one worker per combination and round).  A
    warm-up call (``--warmup-steps`` steps) precedes every timed one on both sides.  The convis
    program runs with its ordinary environment except ``OMP_NUM_THREADS``, never at the same
    time as PyTorch.  Alternating rounds put both sides in the same minutes: these machines
    drift by 10-20% over minutes, so only ratios from one run mean anything.

Usage
    /usr/bin/python3 bench/compare_feature_vis.py --convis-bench B/bin/convis_feature_vis_bench --json out.json
    /usr/bin/python3 bench/compare_feature_vis.py --convis-bench B/bin/convis_feature_vis_bench --quick
    /usr/bin/python3 bench/compare_feature_vis.py --workloads zfnet28 --rounds 9

On a 2-core machine a round takes about two minutes (the 224x224 workloads dominate).  The
interpreter running the PyTorch worker must be able to ``import torch`` (``--python`` chooses it;
it defaults to the one running this script); torchvision is not needed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve()
BENCH_DIR = SCRIPT.parent
sys.path.insert(0, str(BENCH_DIR))
import compare_pytorch as cp  # noqa: E402  (the tuned environment, CPU meter, helpers)

STEPS = 16     # steps per call, both sides (the convis benchmark's argument)
BATCH = 16     # pictures optimised together
CHANNELS = list(range(16))  # the objectives: these channels of conv5
LR = 0.05
INIT_SD = 0.01


@dataclass(frozen=True)
class Workload:
    name: str            # as given to --workloads and printed
    benchmark: str       # Google Benchmark function in the convis program
    net: str             # key of NETS
    parametrisation: str  # fourier | pixel


WORKLOADS = {
    w.name: w
    for w in (
        Workload("zfnet28", "BM_FeatureVis_ZFNet28_Fourier", "zfnet28", "fourier"),
        Workload("zfnet-fourier", "BM_FeatureVis_ZFNet_Fourier", "zfnet", "fourier"),
        Workload("zfnet-pixel", "BM_FeatureVis_ZFNet_Pixel", "zfnet", "pixel"),
    )
}

# include/convis/models/zfnet.hpp up to conv5: input (C, H=W), conv1..conv5 as (out, kernel,
# stride, padding), and the spatial sizes of conv1, pool1, conv2, pool2, conv3, conv4, conv5.
# Pools are 3x3/2 with ceil mode; LRN(5, 1e-4, 0.75, 2) after pool1 and pool2.
NETS = {
    "zfnet28": {"input": (1, 28), "convs": [(32, 3, 1, 1), (64, 3, 1, 1), (128, 3, 1, 1), (128, 3, 1, 1), (64, 3, 1, 1)],
                "sizes": (28, 14, 14, 7, 7, 7, 7), "mean": (0.286,), "std": (0.353,)},
    "zfnet": {"input": (3, 224), "convs": [(96, 7, 2, 1), (256, 5, 2, 0), (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1)],
              "sizes": (110, 55, 26, 13, 13, 13, 13), "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)},
}

# lucid's color_correlation_svd_sqrt (rows: output channels); lucent divides it by its largest column norm.
COLOUR_SVD_SQRT = [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]


def parse_list(text: str, allowed=None) -> list[str]:
    values = list(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    if not values or (allowed is not None and any(v not in allowed for v in values)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list"
                                         + (f" among {', '.join(allowed)}" if allowed else ""))
    return values


def setting_label(layout: str, capability: str, wait_policy: str) -> str:
    return "/".join([layout] + [v for v in (capability, wait_policy) if v != "default"])


# --------------------------------------------------------------------------- convis side


def run_convis(args, workloads: list[Workload]) -> dict | None:
    """One run of the convis program over ``workloads``: {workload: {"ms_per_step", ...}}, or None."""
    exe = Path(args.convis_bench)
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        print(f"\n[convis] benchmark binary not found (or not executable): {exe}\n"
              "[convis] build it first (target convis_feature_vis_bench) or pass --convis-bench PATH;"
              " no convis numbers this time.", flush=True)
        return None
    alternatives = "|".join(w.benchmark for w in workloads)
    cmd = [str(exe), "--benchmark_format=json", f"--benchmark_filter=^({alternatives})/steps:{STEPS}(/|$)",
           "--benchmark_repetitions=1", f"--benchmark_min_time={args.seconds:g}", *args.bench_arg]
    print(f"[convis] running: OMP_NUM_THREADS={args.threads} {' '.join(cmd)}", flush=True)
    with cp.CpuMeter(children=True) as m:
        proc = subprocess.run(cmd, env=cp.convis_env(args), stdout=subprocess.PIPE, text=True)
    print(f"[convis] finished in {m.wall:.1f} s (exit status {proc.returncode}; CPU use: own {m.own_share:.0%}"
          + ("" if m.other_share is None else f", others {m.other_share:.0%}") + ")", flush=True)
    busy = m.other_share is not None and m.other_share > cp.BUSY_LIMIT
    if busy:
        print(f"[convis] WARNING: other processes used {m.other_share:.0%} of the CPUs meanwhile;"
              " its numbers are not reliable.", flush=True)
    if proc.returncode != 0:
        print("[convis] benchmark failed; ignoring its results.", flush=True)
        return None
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError as e:
        print(f"[convis] could not parse the JSON output: {e}", flush=True)
        return None
    by_name = {w.benchmark: w for w in workloads}
    results = {}
    for b in data.get("benchmarks", []):
        key = cp._benchmark_key(b.get("run_name", b.get("name", "")))
        w = by_name.get(key[0]) if key and key[1] == STEPS else None
        if w is None or b.get("run_type", "iteration") != "iteration":
            continue
        if b.get("error_occurred"):
            print(f"[convis] {b['name']}: error: {b.get('error_message')}", flush=True)
            continue
        ms = b["real_time"] * cp._TIME_UNIT_SECONDS[b.get("time_unit", "ns")] * 1e3 / STEPS
        counter = b.get("ms_per_step")
        if counter is not None and abs(float(counter) / ms - 1) > 0.03:
            print(f"[convis] note: {b['name']} reports ms_per_step {float(counter):.3f} but its wall time gives"
                  f" {ms:.3f}; using the wall-time figure", flush=True)
        results[w.name] = {"benchmark": b.get("run_name", b["name"]), "ms_per_step": ms,
                           "iterations": b.get("iterations"), "final_objective": b.get("final_objective"),
                           "other_cpu_share": m.other_share}
        print(f"[convis] {w.name:<14} {ms:10.3f} ms/step  ({b.get('iterations')} call(s) of {STEPS} steps;"
              f" final objective {b.get('final_objective', float('nan')):.4g})", flush=True)
    for w in workloads:
        if w.name not in results:
            print(f"[convis] no result for {w.benchmark}/steps:{STEPS}", flush=True)
    return {"context": data.get("context", {}), "results": results}


# --------------------------------------------------------------------------- PyTorch side (parent)


def worker_cmd(args, workloads: list[Workload], result_path: Path) -> list[str]:
    return [args.python, str(SCRIPT), "--torch-worker", "--worker-result", str(result_path),
            "--workloads", ",".join(w.name for w in workloads), "--layouts", ",".join(args.layouts),
            "--threads", str(args.threads), "--seconds", repr(args.seconds),
            "--warmup-steps", str(args.warmup_steps), "--retries", str(args.retries)]


def run_torch_once(args, workloads: list[Workload], capability: str, wait_policy: str) -> dict | None:
    """One PyTorch worker in the tuned environment; its result, or None."""
    env = cp.torch_env(args, capability, wait_policy)
    with tempfile.TemporaryDirectory(prefix="convis-feature-vis-") as tmp:
        result_path = Path(tmp) / "torch.json"
        print(f"[torch] running worker: {args.python} (ATEN_CPU_CAPABILITY={capability}"
              f" OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '')} LD_PRELOAD={env.get('LD_PRELOAD', '')}"
              f" MALLOC_CONF={env.get('MALLOC_CONF', '')})", flush=True)
        proc = subprocess.run(worker_cmd(args, workloads, result_path), env=env)
        if proc.returncode != 0 or not result_path.exists():
            print(f"[torch] worker failed (exit status {proc.returncode}).", flush=True)
            return None
        return json.loads(result_path.read_text())


def run_rounds(args, workloads: list[Workload]) -> tuple[list, list, dict | None]:
    """``--rounds`` alternating rounds: convis, then a PyTorch worker per capability x wait policy.
    (convis rounds, PyTorch rounds {setting: {workload: ms}}, the first worker's info)."""
    convis_rounds, torch_rounds, info = [], [], None
    for r in range(args.rounds):
        print(f"\n=== round {r + 1} of {args.rounds} ===", flush=True)
        c = None if args.torch_only else run_convis(args, workloads)
        convis_rounds.append({n: v["ms_per_step"] for n, v in (c or {}).get("results", {}).items()})
        t_round = {}
        for cap in args.capabilities:
            for wait in args.wait_policies:
                t = run_torch_once(args, workloads, cap, wait)
                if t is None:
                    continue
                info = info or {**t["info"], "checks": t.get("checks", {})}
                for name, res in t["results"].items():
                    for layout, v in res["layouts"].items():
                        t_round.setdefault(setting_label(layout, cap, wait), {})[name] = v["ms_per_step"]
        torch_rounds.append(t_round)
    return convis_rounds, torch_rounds, info


def summarise(workloads: list[Workload], convis_rounds: list, torch_rounds: list) -> list[dict]:
    rows = []
    for w in workloads:
        c_runs = [r[w.name] for r in convis_rounds if w.name in r]
        settings = {}
        for r in torch_rounds:
            for s, per in r.items():
                if w.name in per:
                    settings.setdefault(s, []).append(per[w.name])
        medians = {s: statistics.median(v) for s, v in settings.items()}
        best = min(medians, key=medians.get) if medians else None
        c_med = statistics.median(c_runs) if c_runs else None
        t_med = medians.get(best) if best else None
        rows.append({"workload": w.name, "convis_benchmark": f"{w.benchmark}/steps:{STEPS}",
                     "convis_ms_per_step": c_med, "pytorch_ms_per_step": t_med, "pytorch_setting": best,
                     "time_ratio_convis_over_pytorch": c_med / t_med if c_med and t_med else None,
                     "convis_runs": c_runs, "pytorch_runs": settings, "pytorch_medians": medians})
    return rows


def print_report(args, rows: list[dict]) -> None:
    print(f"\nfeature visualisation, {BATCH} channel objectives at conv5, {STEPS} steps per call;"
          f" medians of {args.rounds} alternating round(s); {args.threads} threads")
    header = (f"{'workload':<14} {'convis ms/step':>15} {'PyTorch ms/step':>16} {'ratio':>7}  PyTorch setting")
    print(header + "\n" + "-" * len(header))
    for r in rows:
        c, t = ("n/a" if v is None else f"{v:,.2f}" for v in (r["convis_ms_per_step"], r["pytorch_ms_per_step"]))
        ratio = r["time_ratio_convis_over_pytorch"]
        print(f"{r['workload']:<14} {c:>15} {t:>16} {'n/a' if ratio is None else f'{ratio:.2f}':>7}"
              f"  {r['pytorch_setting'] or 'n/a'}")
    print("(ratio: convis time / PyTorch time in its fastest setting; below 1: convis is faster)")
    for r in rows:
        runs = "; ".join(f"{s} {', '.join(f'{v:.2f}' for v in vs)}" for s, vs in r["pytorch_runs"].items())
        print(f"{r['workload']:<14} runs (ms/step): convis {', '.join(f'{v:.2f}' for v in r['convis_runs']) or 'n/a'};"
              f" PyTorch {runs or 'n/a'}")


# --------------------------------------------------------------------------- PyTorch side (worker)


def torch_worker(args) -> int:
    try:
        import torch
        import torch.nn.functional as F
        from torch import nn
    except ImportError as e:
        print(f"[torch] cannot import torch with {sys.executable}: {e}\n"
              "[torch] use an interpreter that has PyTorch (e.g. /usr/bin/python3 with python3-torch)"
              " or pass --python.", flush=True)
        return 2
    import numpy as np

    # Thread pools first: set_num_interop_threads fails once inter-op work has started.
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError as e:
        print(f"[torch] set_num_interop_threads: {e}", flush=True)
    info = {"torch_version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "jemalloc_preloaded": cp._jemalloc_loaded(), "malloc_conf": os.environ.get("MALLOC_CONF"),
            "blas": cp._blas_description(),
            "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
            "cpu_capability": next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                    if "CPU capability" in l), "?")}
    print(f"[torch] torch {info['torch_version']}, CPU capability {info['cpu_capability']}, threads"
          f" {info['num_threads']}/{info['num_interop_threads']} (intra/inter-op), jemalloc"
          f" {info['jemalloc_preloaded']} (MALLOC_CONF={info['malloc_conf']}), BLAS: {info['blas']}", flush=True)

    colour = np.array(COLOUR_SVD_SQRT, dtype=np.float32)
    colour_t = torch.from_numpy(colour / np.max(np.linalg.norm(colour, axis=0))).T.contiguous()  # M.T

    def build(net: str, layout: str):
        """ZFNet (or ZFNet28) up to conv5's output, He-initialised, eval, no parameter gradients."""
        spec = NETS[net]
        cin = spec["input"][0]
        layers = []
        for i, (cout, k, s, p) in enumerate(spec["convs"]):
            layers.append(nn.Conv2d(cin, cout, k, stride=s, padding=p))
            if i < 4:
                layers.append(nn.ReLU(inplace=True))
            if i < 2:
                layers += [nn.MaxPool2d(3, 2, ceil_mode=True), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)]
            cin = cout
        model = nn.Sequential(*layers)
        torch.manual_seed(0)
        for m in model:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        sizes = []
        hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
                 for m in model if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
        with torch.no_grad():
            model(torch.zeros(1, spec["input"][0], spec["input"][1], spec["input"][1]))
        for h in hooks:
            h.remove()
        assert tuple(sizes) == spec["sizes"], f"{net}: spatial sizes {sizes}, expected {list(spec['sizes'])}"
        model.requires_grad_(False).eval()
        return model.to(memory_format=torch.channels_last) if layout == "channels_last" else model

    def rfft2d_freqs(h: int, w: int):
        """lucent's rfft2d_freqs: |f| of each bin of an rfft2 of an h x w picture."""
        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.fftfreq(w)[: w // 2 + 2] if w % 2 == 1 else np.fft.fftfreq(w)[: w // 2 + 1]
        return np.sqrt(fx * fx + fy * fy)

    def make_call(w: Workload, layout: str):
        """visualise(steps, seed): one whole call, as convis::visualise_features makes it."""
        spec = NETS[w.net]
        C, H = spec["input"]
        W = H
        model = build(w.net, layout)
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        mean = torch.tensor(spec["mean"]).view(1, C, 1, 1)
        std = torch.tensor(spec["std"]).view(1, C, 1, 1)
        ch = torch.tensor(CHANNELS)
        rows = torch.arange(BATCH)
        if w.parametrisation == "fourier":
            freqs = rfft2d_freqs(H, W)
            shape = (BATCH, C) + freqs.shape + (2,)
            scale = torch.tensor(1.0 / np.maximum(freqs, 1.0 / max(W, H)), dtype=torch.float32)[None, None, ..., None]

            def image(p):
                spectrum = torch.view_as_complex(scale * p)
                return torch.fft.irfftn(spectrum, s=(H, W), norm="ortho")[:BATCH, :C, :H, :W] / 4.0
        else:
            shape = (BATCH, C, H, W)

            def image(p):
                return p

        def render(p):  # lucent's to_valid_rgb: decorrelation (3 channels) and sigmoid
            y = image(p)
            if C == 3:
                y = torch.matmul(y.permute(0, 2, 3, 1), colour_t).permute(0, 3, 1, 2)
            return torch.sigmoid(y)

        jitter = int(math.floor(H / 16.0 + 0.5))

        def theta(rng: random.Random):
            """rotate . scale . jitter about the centre, as affine_grid's normalised theta."""
            by, bx = rng.randint(-jitter, jitter), rng.randint(-jitter, jitter)
            s = rng.uniform(0.9, 1.1)
            a = math.radians(rng.uniform(-10.0, 10.0))
            cos, sin = math.cos(a) / s, math.sin(a) / s
            return torch.tensor([[cos, -sin * H / W, 2 * bx / W], [sin * W / H, cos, 2 * by / H]],
                                dtype=torch.float32).expand(BATCH, 2, 3)

        def prepare(v):
            return ((v - mean) / std).contiguous(memory_format=fmt)

        def visualise(steps: int, seed: int = 1):
            rng = random.Random(seed)
            gen = torch.Generator().manual_seed(seed)
            p = (torch.randn(*shape, generator=gen) * INIT_SD).requires_grad_(True)
            opt = torch.optim.Adam([p], lr=LR)
            first = None
            for _ in range(steps):
                u = render(p)
                grid = F.affine_grid(theta(rng), [BATCH, C, H, W], align_corners=False)
                v = F.grid_sample(u - 0.5, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 0.5
                a = model(prepare(v))
                objectives = a[rows, ch].mean((1, 2))
                loss = -objectives.mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if first is None:
                    first = objectives.detach()
            with torch.no_grad():
                final = model(prepare(render(p)))[rows, ch].mean((1, 2))
            return first, final

        return visualise

    results, checks = {}, {}
    for w in (WORKLOADS[n] for n in args.workloads):
        results[w.name] = {"layouts": {}}
        for layout in args.layouts:
            visualise = make_call(w, layout)
            t0 = time.perf_counter()
            visualise(args.warmup_steps)
            t_step = (time.perf_counter() - t0) / max(1, args.warmup_steps)
            calls = max(1, math.ceil(args.seconds / (t_step * STEPS)))
            for attempt in range(args.retries + 1):
                with cp.CpuMeter() as m:
                    for _ in range(calls):
                        first, final = visualise(STEPS)
                if m.other_share is None or m.other_share <= cp.BUSY_LIMIT or attempt == args.retries:
                    break
                time.sleep(1.0)  # another process competed for the CPUs: measure again
            ms = 1e3 * m.wall / (calls * STEPS)
            gain = (final - first).mean().item()
            results[w.name]["layouts"][layout] = {
                "ms_per_step": ms, "calls": calls, "attempts": attempt + 1, "own_cpu_share": m.own_share,
                "other_cpu_share": m.other_share, "first_objective": first.mean().item(),
                "final_objective": final.mean().item()}
            checks[f"{w.name}/{layout}"] = {"objective_gain": gain, "ok": bool(math.isfinite(gain) and gain > 0)}
            others = "" if m.other_share is None else f", others {m.other_share:.0%}"
            print(f"[torch] {w.name:<14} {layout:<14} {ms:10.3f} ms/step  ({calls} call(s) of {STEPS} steps;"
                  f" CPU use: own {m.own_share:.0%}{others}; {attempt} retried; objective"
                  f" {first.mean().item():.4g} -> {final.mean().item():.4g})", flush=True)
            if m.other_share is not None and m.other_share > cp.BUSY_LIMIT:
                print("[torch] WARNING: other processes competed for the CPUs; not reliable.", flush=True)
    Path(args.worker_result).write_text(json.dumps({"info": info, "checks": checks, "results": results}, indent=2))
    return 0


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--convis-bench", default=str(cp.REPO_ROOT / "build" / "bin" / "convis_feature_vis_bench"),
                   help="convis Google Benchmark binary (default: %(default)s)")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of: %(default)s")
    p.add_argument("--layouts", default=",".join(cp.LAYOUTS), help="PyTorch layouts to try (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=5,
                   help="alternating convis / PyTorch rounds; medians are reported (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="minimum seconds per timed run, both sides (default: %(default)s; a 224x224 call"
                        " takes longer, so it runs once)")
    p.add_argument("--warmup-steps", type=int, default=2,
                   help="steps of PyTorch's warm-up call per workload and layout (default: %(default)s)")
    p.add_argument("--retries", type=int, default=1,
                   help="times a PyTorch run is repeated when other processes used more than"
                        f" {cp.BUSY_LIMIT * 100:.0f}%% of the CPUs meanwhile (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: 1 round, one call per measurement, a 1-step warm-up, no retries")
    p.add_argument("--threads", type=int, default=cp.usable_cores(),
                   help="threads for both sides (default: usable cores, %(default)s)")
    p.add_argument("--torch-only", action="store_true", help="skip the convis side")
    p.add_argument("--bench-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the convis benchmark program (repeatable)")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the PyTorch worker (default: %(default)s)")
    p.add_argument("--jemalloc", help="path of libjemalloc to preload (default: searched)")
    p.add_argument("--no-jemalloc", action="store_true", help="do not preload jemalloc")
    p.add_argument("--malloc-conf", default=cp.DEFAULT_MALLOC_CONF,
                   help="MALLOC_CONF for the worker when jemalloc is preloaded; '' leaves it as inherited"
                        " (default: %(default)s)")
    p.add_argument("--capabilities", default="default",
                   help="ATEN_CPU_CAPABILITY values to try, e.g. default,avx512; 'default' leaves it unset"
                        " (default: %(default)s)")
    p.add_argument("--wait-policies", default="default",
                   help="OMP_WAIT_POLICY values to try for PyTorch, e.g. default,passive; 'default' leaves it"
                        " unset (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="also write all results as JSON to PATH")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    try:
        args.workloads = parse_list(args.workloads, list(WORKLOADS))
        args.layouts = parse_list(args.layouts, list(cp.LAYOUTS))
        args.capabilities = parse_list(args.capabilities)
        args.wait_policies = parse_list(args.wait_policies)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if args.quick and not args.torch_worker:
        args.rounds, args.seconds, args.warmup_steps, args.retries = 1, 0.01, 1, 0
    if args.rounds < 1 or args.seconds < 0 or args.threads < 1 or args.retries < 0 or args.warmup_steps < 1:
        p.error("--rounds, --threads and --warmup-steps must be positive, --seconds and --retries >= 0")
    if args.torch_worker:
        return torch_worker(args)

    workloads = [WORKLOADS[n] for n in args.workloads]
    load1 = os.getloadavg()[0]
    print(f"threads: {args.threads}; workloads: {', '.join(args.workloads)}; {args.rounds} round(s), >="
          f" {args.seconds:g} s per measurement; load average {load1:.2f}")
    if load1 > 0.5:
        print("WARNING: the machine is not idle (load average > 0.5); timings will be noisy.")

    t0 = time.perf_counter()
    convis_rounds, torch_rounds, info = run_rounds(args, workloads)
    rows = summarise(workloads, convis_rounds, torch_rounds)
    print_report(args, rows)
    checks = (info or {}).get("checks", {})
    if any(not c["ok"] for c in checks.values()):
        print(f"\nWARNING: a PyTorch objective did not rise: {json.dumps(checks)}")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "threads": args.threads, "rounds": args.rounds, "seconds": args.seconds, "steps": STEPS,
            "batch": BATCH, "channels": CHANNELS, "layer": "conv5", "comparison": rows,
            "convis_rounds": convis_rounds, "pytorch_rounds": torch_rounds, "pytorch_info": info}, indent=2))
        print(f"results written to {args.json}")
    have_convis = any(r["convis_ms_per_step"] for r in rows)
    have_torch = any(r["pytorch_ms_per_step"] for r in rows)
    return 0 if (have_convis or have_torch) else 1


if __name__ == "__main__":
    sys.exit(main())
