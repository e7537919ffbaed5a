#!/usr/bin/env python3
"""Compare convis' ZFNet attribution workloads with PyTorch's on this machine.

What
    Runs, one after the other in a single invocation,

    1. the convis Google Benchmark program (``--convis-bench``, default
       ``<repo>/build/bin/convis_attribution_bench``) restricted to
       ``BM_ZFNet_GradCAM/16``, ``BM_ZFNet_IntegratedGradients/64`` and
       ``BM_ZFNet_Deletion/32`` in JSON mode, ``--repetitions`` repetitions of at
       least ``--seconds`` each, median taken.  Each iteration is one unit of work
       (16 images, 1 image, 1 image; see below); the rate is units / ``real_time``,
       and the benchmark's ``images_per_second`` counter is checked against it;
    2. the same workloads in PyTorch, on bench/pytorch_zfnet.py's ZFNet (224x224x3,
       1000 classes, eval mode, parameters with ``requires_grad=False``):

       ``gradcam``   Grad-CAM at relu5 for 16 images, image i's target class i % 1000:
                     forward up to relu5 without a graph, the rest (pool5 .. fc8)
                     with one, ``torch.autograd.grad`` of the sum of the target
                     logits w.r.t. relu5's output A; w = spatial mean of that gradient,
                     relu(sum_k w_k A_k), bilinear upsampling to 224x224
                     (align_corners=False).  Rate: 16 / time;
       ``ig``        integrated gradients of one image (target 0), 64 steps, baseline 0,
                     Riemann right sum: the 64 scaled inputs as batches of B (every B
                     of ``--ig-batches`` is timed), the gradient w.r.t. the input only,
                     then x * mean.  Rate: 1 / time;
       ``deletion``  deletion curve and AUC of one image (target 0) for a given random
                     224x224 map: pixels ordered by the map, descending (stable); 32
                     steps of 1568 pixels; 33 images (the first k*1568 pixels set to 0
                     in every channel, k = 0..32) through the network under
                     ``torch.inference_mode()`` in batches (every size of
                     ``--deletion-batches`` is timed); softmax probability of the target;
                     trapezoid AUC over the removed fraction.  Rate: 1 / time;

    and prints images/s per side and the time ratio convis time / PyTorch time (the
    project's measure; goal <= 0.7).  Then, per workload, convis and PyTorch in its
    winning setting measured in alternation (``--paired-rounds``, medians: the headline
    figures, since these machines drift over minutes); then
    3. the peak resident memory of ``ig``: one process per side (convis running only
       ``BM_ZFNet_IntegratedGradients/64``, the PyTorch worker only ``ig`` in its
       fastest setting), from the kernel's rusage of that child.

Why like this
    PyTorch runs at its best, exactly as bench/compare_pytorch.py arranges it (its
    ``torch_env``): a child process with ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE``
    removed, jemalloc preloaded with ``MALLOC_CONF`` keeping freed pages, every thread
    pool at the usable core count; NCHW and channels_last, ``OMP_WAIT_POLICY`` unset and
    ``passive``, ATen's CPU capability at its default and AVX-512 (where the CPU has
    it), and for ``ig`` / ``deletion`` every batch size asked for; the fastest setting
    wins per workload.  Warm-up precedes timing; runs disturbed by other processes are
    retried (``--retries``) or flagged.  The convis binary runs with its ordinary
    environment except ``OMP_NUM_THREADS``, never at the same time as PyTorch.

    The first PyTorch worker also checks, outside the timed path, that its Grad-CAM
    equals a plain hook-based Grad-CAM (forward hook on relu5 + tensor hook for its
    gradient, full backward), and that the batch sizes of ``ig`` and ``deletion``
    give the same results.

Usage
    /usr/bin/python3 bench/compare_attribution.py --json out.json
    /usr/bin/python3 bench/compare_attribution.py --torch-only --seconds 1 --repetitions 1
    /usr/bin/python3 bench/compare_attribution.py --workloads gradcam,deletion --paired-rounds 5

On a 2-core machine the default run takes about 20 minutes (ig: 64 forward + backward passes per
image, timed for 2 layouts x 3 batch sizes x every capability and wait policy); narrow it with
``--layouts``, ``--ig-batches``, ``--capabilities``, ``--wait-policies``.

The interpreter running the PyTorch worker must be able to ``import torch``
(``--python`` chooses it; it defaults to the one running this script).
"""

from __future__ import annotations

import argparse
import json
import math
import os
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

GOAL = 0.7  # time ratio convis / PyTorch the project aims for


@dataclass(frozen=True)
class Workload:
    name: str       # as given to --workloads and printed
    benchmark: str  # Google Benchmark function in the convis program
    arg: int        # its argument: batch (gradcam) or steps (ig, deletion)
    images: int     # images one iteration attributes: the unit of the rate
    batch_option: str | None = None  # option listing PyTorch's batch sizes (None: all at once)


WORKLOADS = {
    w.name: w
    for w in (
        Workload("gradcam", "BM_ZFNet_GradCAM", 16, 16),
        Workload("ig", "BM_ZFNet_IntegratedGradients", 64, 1, "ig_batches"),
        Workload("deletion", "BM_ZFNet_Deletion", 32, 1, "deletion_batches"),
    )
}


def parse_list(text: str, allowed=None, convert=str) -> list:
    values = list(dict.fromkeys(convert(v.strip()) for v in text.split(",") if v.strip()))
    if not values or (allowed is not None and any(v not in allowed for v in values)):
        among = (f"{allowed.start}..{allowed.stop - 1}" if isinstance(allowed, range)
                 else ", ".join(map(str, allowed or ())))
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list"
                                         + (f" among {among}" if among else ""))
    return values


def batches(args, w: Workload) -> list[int]:
    """The PyTorch batch sizes timed for a workload (Grad-CAM runs its 16 images at once)."""
    return getattr(args, w.batch_option) if w.batch_option else [w.arg]


def setting_label(s: dict) -> str:
    extras = [v for v in (s.get("capability"), s.get("wait_policy")) if v and v != "default"]
    return "/".join([s["layout"], f"batch {s['batch']}", *extras])


# --------------------------------------------------------------------------- convis side


def run_convis(args, workloads: list[Workload]) -> dict | None:
    """Run the convis benchmarks; {workload: result}, or None when they could not run.

    Not compare_pytorch.run_convis: that one takes the benchmark's argument for the images
    per iteration, which ig (64 steps, 1 image) and deletion (32 steps, 1 image) are not."""
    exe = Path(args.convis_bench)
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        print(f"\n[convis] benchmark binary not found (or not executable): {exe}\n"
              "[convis] build it first or pass --convis-bench PATH; no convis numbers this time.", flush=True)
        return None
    alternatives = "|".join(f"{w.benchmark}/{w.arg}" for w in workloads)
    cmd = [str(exe), "--benchmark_format=json", f"--benchmark_filter=^({alternatives})(/|$)",
           f"--benchmark_repetitions={args.repetitions}", f"--benchmark_min_time={args.seconds:g}",
           *args.bench_arg]
    print(f"\n[convis] running: OMP_NUM_THREADS={args.threads} {' '.join(cmd)}", flush=True)
    with cp.CpuMeter(children=True) as m:
        proc = subprocess.run(cmd, env=cp.convis_env(args), stdout=subprocess.PIPE, text=True)
    print(f"[convis] finished in {m.wall:.1f} s (exit status {proc.returncode}; CPU use: own {m.own_share:.0%}"
          + ("" if m.other_share is None else f", others {m.other_share:.0%}") + ")", flush=True)
    if m.other_share is not None and m.other_share > cp.BUSY_LIMIT:
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

    by_key = {(w.benchmark, w.arg): w for w in workloads}
    runs: dict[str, list[float]] = {w.name: [] for w in workloads}
    counters: dict[str, list[float]] = {w.name: [] for w in workloads}
    names: dict[str, str] = {}
    for b in data.get("benchmarks", []):
        w = by_key.get(cp._benchmark_key(b.get("run_name", b.get("name", ""))))
        if w is None or b.get("run_type", "iteration") != "iteration":
            continue  # aggregates: the median is taken below
        if b.get("error_occurred"):
            print(f"[convis] {b['name']}: error: {b.get('error_message')}", flush=True)
            continue
        names[w.name] = b.get("run_name", b["name"])
        runs[w.name].append(w.images / (b["real_time"] * cp._TIME_UNIT_SECONDS[b.get("time_unit", "ns")]))
        if "images_per_second" in b:
            counters[w.name].append(float(b["images_per_second"]))

    results = {}
    for w in workloads:
        if not runs[w.name]:
            print(f"[convis] no result for {w.benchmark}/{w.arg}", flush=True)
            continue
        value = statistics.median(runs[w.name])
        counter = statistics.median(counters[w.name]) if counters[w.name] else None
        results[w.name] = {"benchmark": names[w.name], "images_per_second": value, "runs": runs[w.name],
                           "counter_images_per_second": counter}
        if counter is None:
            print(f"[convis] {names[w.name]}: no images_per_second counter; using {w.images} / real_time", flush=True)
        elif abs(counter / value - 1) > 0.03:
            print(f"[convis] note: {names[w.name]} reports {counter:,.3f} img/s but {w.images} image(s) per"
                  f" iteration of its wall time give {value:,.3f} img/s; using the wall-time figure", flush=True)
    return {"context": data.get("context", {}), "results": results}


# --------------------------------------------------------------------------- PyTorch side (parent)


def narrowed(args, w: Workload, setting: dict, **changes) -> argparse.Namespace:
    """args for a worker that times only ``setting`` (its layout and batch size) of ``w``."""
    one = argparse.Namespace(**vars(args))
    one.layouts = [setting["layout"]]
    if w.batch_option:
        setattr(one, w.batch_option, [setting["batch"]])
    for k, v in changes.items():
        setattr(one, k, v)
    return one


def worker_cmd(args, workloads: list[Workload], result_path: Path, check: bool = False) -> list[str]:
    return [args.python, str(SCRIPT), "--torch-worker", "--worker-result", str(result_path),
            "--workloads", ",".join(w.name for w in workloads),
            "--layouts", ",".join(args.layouts),
            "--ig-batches", ",".join(map(str, args.ig_batches)),
            "--deletion-batches", ",".join(map(str, args.deletion_batches)),
            "--threads", str(args.threads), "--seconds", repr(args.seconds),
            "--repetitions", str(args.repetitions), "--warmup", str(args.warmup),
            "--retries", str(args.retries), *(["--check"] if check else [])]


def run_torch_once(args, workloads: list[Workload], capability: str, wait_policy: str,
                   check: bool = False) -> dict | None:
    """One PyTorch worker in the tuned environment; its result, or None."""
    env = cp.torch_env(args, capability, wait_policy)
    with tempfile.TemporaryDirectory(prefix="convis-attribution-") as tmp:
        result_path = Path(tmp) / "torch.json"
        print(f"\n[torch] running worker: {args.python} (ATEN_CPU_CAPABILITY={capability}"
              f" OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '')} LD_PRELOAD={env.get('LD_PRELOAD', '')}"
              f" MALLOC_CONF={env.get('MALLOC_CONF', '')})", flush=True)
        proc = subprocess.run(worker_cmd(args, workloads, result_path, check), env=env)
        if proc.returncode != 0 or not result_path.exists():
            print(f"[torch] worker failed (exit status {proc.returncode}).", flush=True)
            return None
        return json.loads(result_path.read_text())


def run_torch(args, workloads: list[Workload]) -> dict | None:
    """PyTorch at its best: every capability x wait policy (one worker each), every layout and
    batch size inside; per workload the fastest setting wins."""
    merged = None
    for i, (cap, wait) in enumerate((c, w) for c in args.capabilities for w in args.wait_policies):
        res = run_torch_once(args, workloads, cap, wait, check=(i == 0 and not args.no_check))
        if res is None:
            continue
        merged = merged or {"info": res["info"], "checks": res.get("checks", {}), "results": {}}
        for name, r in res["results"].items():
            m = merged["results"].setdefault(name, {"images_per_second": None, "setting": None, "settings": {}})
            for v in r["variants"]:
                setting = {"layout": v["layout"], "batch": v["batch"], "capability": cap, "wait_policy": wait}
                m["settings"][setting_label(setting)] = v
                if m["images_per_second"] is None or v["images_per_second"] > m["images_per_second"]:
                    m["images_per_second"], m["setting"] = v["images_per_second"], setting
    return merged


def run_paired(args, workloads: list[Workload], torch_res: dict) -> list[dict]:
    """Per workload, convis and PyTorch in its winning setting measured in alternation, medians
    compared (as compare_pytorch.py's paired rounds: same minutes for both sides, and no bias from
    having picked the luckiest of many PyTorch settings)."""
    rows = []
    for w in workloads:
        best = torch_res["results"].get(w.name, {}).get("setting")
        if not best:
            continue
        one = narrowed(args, w, best, repetitions=1, retries=1)
        c_rates, t_rates = [], []
        for _ in range(args.paired_rounds):
            c = run_convis(one, [w])
            if c and w.name in c["results"]:
                c_rates.append(c["results"][w.name]["images_per_second"])
            t = run_torch_once(one, [w], best["capability"], best["wait_policy"])
            if t and w.name in t["results"]:
                t_rates.append(t["results"][w.name]["images_per_second"])
        if c_rates and t_rates:
            c_med, t_med = statistics.median(c_rates), statistics.median(t_rates)
            rows.append({"workload": w.name, "pytorch_setting": setting_label(best), "convis_runs": c_rates,
                         "pytorch_runs": t_rates, "convis_images_per_second": c_med,
                         "pytorch_images_per_second": t_med, "time_ratio_convis_over_pytorch": t_med / c_med})
    print(f"\npaired ({args.paired_rounds} alternating rounds per side; medians; goal: time ratio <= {GOAL}):")
    header = f"{'workload':<10} {'convis img/s':>13} {'PyTorch img/s':>14} {'time ratio':>11}  PyTorch setting"
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['workload']:<10} {r['convis_images_per_second']:13.3f} {r['pytorch_images_per_second']:14.3f}"
              f" {r['time_ratio_convis_over_pytorch']:11.2f}  {r['pytorch_setting']}")
        print(f"{'':<10} runs: convis {', '.join(f'{v:.3f}' for v in r['convis_runs'])};"
              f" PyTorch {', '.join(f'{v:.3f}' for v in r['pytorch_runs'])}")
    return rows


def run_memory(args, w: Workload, torch_res: dict | None) -> dict:
    """Peak RSS of one process per side running only ``w`` (PyTorch in its fastest setting)."""
    row = {"workload": w.name, "convis_peak_mib": None, "pytorch_peak_mib": None, "pytorch_setting": None}
    exe = Path(args.convis_bench)
    if not args.torch_only and exe.is_file():
        # Google Benchmark appends /real_time to the names of UseRealTime() benchmarks: (/|$).
        kib = cp.peak_rss_kib([str(exe), f"--benchmark_filter=^{w.benchmark}/{w.arg}(/|$)",
                               "--benchmark_min_time=0.5"], cp.convis_env(args))
        row["convis_peak_mib"] = kib / 1024 if kib else None
    best = (torch_res or {}).get("results", {}).get(w.name, {}).get("setting")
    if best:
        one = narrowed(args, w, best, seconds=0.5, repetitions=1, warmup=1, retries=0)
        with tempfile.TemporaryDirectory(prefix="convis-attribution-") as tmp:
            kib = cp.peak_rss_kib(worker_cmd(one, [w], Path(tmp) / "m.json"),
                                  cp.torch_env(args, best["capability"], best["wait_policy"]))
        row["pytorch_peak_mib"], row["pytorch_setting"] = (kib / 1024 if kib else None), setting_label(best)
    c = "n/a" if row["convis_peak_mib"] is None else f"{row['convis_peak_mib']:,.0f} MiB"
    t = "n/a" if row["pytorch_peak_mib"] is None else f"{row['pytorch_peak_mib']:,.0f} MiB"
    print(f"\n{'workload':<10} {'convis peak RSS':>16} {'PyTorch peak RSS':>17}  (whole process; PyTorch setting)")
    print(f"{w.name:<10} {c:>16} {t:>17}  {row['pytorch_setting'] or ''}")
    return row


# --------------------------------------------------------------------------- PyTorch attribution


def split_after_relu5(model):
    """(front, tail) of the ZFNet Sequential: the layers up to relu5 (the 5th ReLU) and the rest."""
    from torch import nn
    relus = [i for i, m in enumerate(model) if isinstance(m, nn.ReLU)]
    return model[:relus[4] + 1], model[relus[4] + 1:]


def cam_from(a, g, size):
    """Grad-CAM map [N,H,W] from relu5's output A and the gradient G: up(relu(sum_k mean(G_k) A_k))."""
    import torch.nn.functional as F
    cam = F.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[:, 0]


def gradcam(front, tail, x, targets):
    """Grad-CAM at relu5: no graph below relu5; autograd only from the logits down to A."""
    import torch
    with torch.no_grad():
        a = front(x)
    a.requires_grad_(True)
    logits = tail(a)
    (g,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), a)
    with torch.no_grad():
        return cam_from(a, g, x.shape[-2:])


def gradcam_hooks(model, x, targets):
    """Reference Grad-CAM the plain way: hooks on relu5 record A and dy/dA during a full backward."""
    import torch
    layer = split_after_relu5(model)[0][-1]
    acts, grads = [], []

    def keep(_module, _inputs, out):
        acts.append(out)
        out.register_hook(grads.append)

    handle = layer.register_forward_hook(keep)
    try:
        xr = x.detach().clone().requires_grad_(True)
        model(xr).gather(1, targets[:, None]).sum().backward()
    finally:
        handle.remove()
    a, g = acts[0].detach(), grads[0]
    cam = torch.einsum("nk,nkhw->nhw", g.mean((2, 3)), a).clamp(min=0)[:, None]
    return torch.nn.functional.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]


def integrated_gradients(model, x, target: int, steps: int, batch: int, memory_format):
    """IG of one image x [1,C,H,W], baseline 0, Riemann right sum: x * mean_k dy/dx(k/steps * x)."""
    import torch
    total = torch.zeros_like(x)
    alphas = torch.arange(1, steps + 1, dtype=x.dtype) / steps
    for start in range(0, steps, batch):
        inputs = (alphas[start:start + batch, None, None, None] * x).contiguous(memory_format=memory_format)
        inputs.requires_grad_(True)
        (g,) = torch.autograd.grad(model(inputs)[:, target].sum(), inputs)
        total += g.sum(0, keepdim=True)
    return x * (total / steps)


def deletion(model, x, saliency, target: int, steps: int, batch: int, memory_format):
    """(AUC, curve) of the deletion metric for one image x [1,C,H,W] and its map [H,W]."""
    import torch
    import torch.nn.functional as F
    with torch.inference_mode():
        h, w = saliency.shape
        n = h * w
        order = torch.sort(saliency.flatten(), descending=True, stable=True).indices
        rank = torch.empty(n, dtype=torch.long)
        rank[order] = torch.arange(n)
        removed = (torch.arange(steps + 1) * math.ceil(n / steps)).clamp(max=n)
        fill = x.new_zeros(())
        scores = []
        for start in range(0, steps + 1, batch):
            keep = (rank >= removed[start:start + batch, None]).view(-1, 1, h, w)
            images = torch.where(keep, x, fill).contiguous(memory_format=memory_format)
            scores.append(F.softmax(model(images), 1)[:, target])
        curve = torch.cat(scores)
        return torch.trapezoid(curve, removed.to(curve.dtype) / n), curve


# --------------------------------------------------------------------------- PyTorch side (worker)


def measure(step, units: int, args) -> tuple[dict, object]:
    """Warm up, then time ``--repetitions`` runs of >= ``--seconds`` (retried when disturbed), as
    compare_pytorch.py's worker does; (result dict, the step's last warm-up output)."""
    t_iter = math.inf
    for _ in range(max(1, args.warmup)):
        t0 = time.perf_counter()
        out = step()
        t_iter = min(t_iter, time.perf_counter() - t0)
    iters = max(1, math.ceil(args.seconds / t_iter))
    runs, own, other, retried = [], [], [], 0
    for _ in range(args.repetitions):
        for attempt in range(args.retries + 1):
            with cp.CpuMeter() as m:
                for _ in range(iters):
                    step()
            if m.other_share is None or m.other_share <= cp.BUSY_LIMIT or attempt == args.retries:
                break
            retried += 1  # another process competed for the CPUs: measure again
            time.sleep(1.0)
        runs.append(units * iters / m.wall)
        own.append(m.own_share)
        if m.other_share is not None:
            other.append(m.other_share)
    return {"images_per_second": statistics.median(runs), "runs": runs, "iterations_per_run": iters,
            "own_cpu_share": own, "other_cpu_share": other, "retried_runs": retried}, out


def torch_worker(args) -> int:
    try:
        import torch
    except ImportError as e:
        print(f"[torch] cannot import torch with {sys.executable}: {e}\n"
              "[torch] use an interpreter that has PyTorch (e.g. /usr/bin/python3 with python3-torch)"
              " or pass --python.", flush=True)
        return 2
    # Thread pools first: set_num_interop_threads fails once inter-op work has started.
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError as e:
        print(f"[torch] set_num_interop_threads: {e}", flush=True)
    from pytorch_zfnet import INPUT_CHANNELS, INPUT_SIZE, NUM_CLASSES, build_zfnet, check_architecture

    info = {"torch_version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "jemalloc_preloaded": cp._jemalloc_loaded(), "malloc_conf": os.environ.get("MALLOC_CONF"),
            "blas": cp._blas_description(),
            "cpu_capability": next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                    if "CPU capability" in l), "?")}
    print(f"[torch] torch {info['torch_version']}, CPU capability {info['cpu_capability']}, threads"
          f" {info['num_threads']}/{info['num_interop_threads']} (intra/inter-op), jemalloc"
          f" {info['jemalloc_preloaded']} (MALLOC_CONF={info['malloc_conf']}), BLAS: {info['blas']}", flush=True)

    models = {}

    def model_in(layout: str):
        if layout not in models:
            torch.manual_seed(0)
            model = build_zfnet(NUM_CLASSES)
            check_architecture(model)
            model.requires_grad_(False).eval()
            models[layout] = model.to(memory_format=torch.channels_last) if layout == "channels_last" else model
        return models[layout]

    def inputs(w: Workload, layout: str):
        torch.manual_seed(1)
        x = torch.randn(w.images, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        return x.contiguous(memory_format=fmt), fmt

    def make_step(w: Workload, layout: str, batch: int):
        model = model_in(layout)
        x, fmt = inputs(w, layout)
        if w.name == "gradcam":
            front, tail = split_after_relu5(model)
            targets = torch.arange(w.images) % NUM_CLASSES
            return lambda: gradcam(front, tail, x, targets)
        if w.name == "ig":
            return lambda: integrated_gradients(model, x, 0, w.arg, batch, fmt)
        saliency = torch.rand(INPUT_SIZE, INPUT_SIZE, generator=torch.Generator().manual_seed(2))
        return lambda: deletion(model, x, saliency, 0, w.arg, batch, fmt)

    def check(w: Workload, outputs: list) -> dict:
        """Grad-CAM against the hook-based reference; every batch size against the first."""
        if w.name == "gradcam":
            x, _ = inputs(w, args.layouts[0])
            ref = gradcam_hooks(model_in(args.layouts[0]), x, torch.arange(w.images) % NUM_CLASSES)
            got = outputs[0]
            diff = ((got - ref).abs().max() / ref.abs().max().clamp(min=1e-30)).item()
            nonzero = (ref > 0).float().mean().item()
            result = {"max_rel_diff_vs_hooks": diff, "nonzero_fraction": nonzero,
                      "ok": diff < 1e-4 and nonzero > 0}
        else:
            values = [o[1] if isinstance(o, tuple) else o for o in outputs]  # deletion: the curve
            diff = max(((v - values[0]).abs().max() / values[0].abs().max().clamp(min=1e-30)).item()
                       for v in values)
            result = {"max_rel_diff_between_batch_sizes": diff, "ok": diff < 1e-4}
            if w.name == "deletion":
                result["auc"] = outputs[0][0].item()
        print(f"[torch] check {w.name}: {json.dumps(result)}", flush=True)
        return result

    results, checks = {}, {}
    for w in (WORKLOADS[n] for n in args.workloads):
        variants, outputs = [], []
        for layout in args.layouts:
            for batch in batches(args, w):
                timing, out = measure(make_step(w, layout, batch), w.images, args)
                variants.append({"layout": layout, "batch": batch, **timing})
                outputs.append(out)
                others = f", others {max(timing['other_cpu_share']):.0%}" if timing["other_cpu_share"] else ""
                print(f"[torch] {w.name:<9} {layout:<14} batch {batch:<3} {timing['images_per_second']:9.3f} img/s"
                      f"  (runs: {', '.join(f'{r:.3f}' for r in timing['runs'])}; {timing['iterations_per_run']}"
                      f" iterations each; CPU use: own {statistics.median(timing['own_cpu_share']):.0%}{others};"
                      f" {timing['retried_runs']} retried)", flush=True)
                if timing["other_cpu_share"] and max(timing["other_cpu_share"]) > cp.BUSY_LIMIT:
                    print("[torch] WARNING: other processes competed for the CPUs; not reliable.", flush=True)
        if args.check:
            checks[w.name] = check(w, [o for o, v in zip(outputs, variants) if v["layout"] == args.layouts[0]])
        best = max(variants, key=lambda v: v["images_per_second"])
        results[w.name] = {"variants": variants, "images_per_second": best["images_per_second"]}
    # A failed check is reported by the parent; the timings are kept either way.
    Path(args.worker_result).write_text(json.dumps({"info": info, "checks": checks, "results": results}, indent=2))
    return 0


# --------------------------------------------------------------------------- report and main


def print_report(workloads: list[Workload], convis: dict | None, torch_res: dict | None) -> list[dict]:
    rows = []
    for w in workloads:
        c = (convis or {}).get("results", {}).get(w.name, {}).get("images_per_second")
        t = (torch_res or {}).get("results", {}).get(w.name, {})
        tv = t.get("images_per_second")
        rows.append({"workload": w.name, "convis_images_per_second": c, "pytorch_images_per_second": tv,
                     "time_ratio_convis_over_pytorch": tv / c if c and tv else None,
                     "pytorch_setting": setting_label(t["setting"]) if t.get("setting") else None,
                     "pytorch_settings": {k: v["images_per_second"] for k, v in t.get("settings", {}).items()}})
    header = f"{'workload':<10} {'convis img/s':>13} {'PyTorch img/s':>14} {'time ratio':>11}  PyTorch setting"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        ratio = r["time_ratio_convis_over_pytorch"]
        c, t = (("n/a" if v is None else f"{v:,.3f}")
                for v in (r["convis_images_per_second"], r["pytorch_images_per_second"]))
        print(f"{r['workload']:<10} {c:>13} {t:>14} {'n/a' if ratio is None else f'{ratio:.2f}':>11}"
              f"  {r['pytorch_setting'] or 'n/a'}")
    print(f"(time ratio: convis time / PyTorch time; goal <= {GOAL}; gradcam: 16 images per unit, ig and"
          " deletion: 1)")
    for r in rows:
        if r["pytorch_settings"]:
            print(f"PyTorch {r['workload']} (img/s): "
                  + "; ".join(f"{k} {v:,.3f}" for k, v in r["pytorch_settings"].items()))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--convis-bench", default=str(cp.REPO_ROOT / "build" / "bin" / "convis_attribution_bench"),
                   help="convis Google Benchmark binary (default: %(default)s)")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of: %(default)s")
    p.add_argument("--layouts", default=",".join(cp.LAYOUTS), help="PyTorch layouts to try (default: %(default)s)")
    p.add_argument("--ig-batches", default="16,32,64",
                   help="PyTorch batch sizes for ig's 64 scaled inputs (default: %(default)s)")
    p.add_argument("--deletion-batches", default="11,33",
                   help="PyTorch batch sizes for deletion's 33 images (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="minimum seconds per timed run, both sides (default: %(default)s)")
    p.add_argument("--repetitions", type=int, default=3,
                   help="timed runs per workload and setting; the median is reported (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2,
                   help="PyTorch warm-up iterations per workload and setting (default: %(default)s)")
    p.add_argument("--retries", type=int, default=2,
                   help="times a PyTorch run is repeated when other processes used more than"
                        f" {cp.BUSY_LIMIT * 100:.0f}%% of the CPUs meanwhile (default: %(default)s)")
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
    p.add_argument("--capabilities", default=None,
                   help="ATEN_CPU_CAPABILITY values to try; 'default' leaves it unset"
                        " (default: default,avx512 where the CPU has AVX-512, else default)")
    p.add_argument("--wait-policies", default="default,passive",
                   help="OMP_WAIT_POLICY values to try for PyTorch; 'default' leaves it unset (default: %(default)s)")
    p.add_argument("--paired-rounds", type=int, default=3,
                   help="alternating convis / best-PyTorch rounds per workload at the end; 0 skips them"
                        " (default: %(default)s)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs of ig")
    p.add_argument("--no-check", action="store_true", help="skip the PyTorch correctness checks")
    p.add_argument("--json", metavar="PATH", help="also write all results as JSON to PATH")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-result", help=argparse.SUPPRESS)
    p.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    try:
        args.workloads = parse_list(args.workloads, WORKLOADS)
        args.layouts = parse_list(args.layouts, cp.LAYOUTS)
        args.ig_batches = parse_list(args.ig_batches, range(1, WORKLOADS["ig"].arg + 1), int)
        args.deletion_batches = parse_list(args.deletion_batches, range(1, WORKLOADS["deletion"].arg + 2), int)
        args.wait_policies = parse_list(args.wait_policies)
        if args.capabilities is None:
            try:
                has_avx512 = "avx512f" in Path("/proc/cpuinfo").read_text()
            except OSError:
                has_avx512 = False
            args.capabilities = "default,avx512" if has_avx512 else "default"
        args.capabilities = parse_list(args.capabilities)
    except (argparse.ArgumentTypeError, ValueError) as e:
        p.error(str(e))
    if args.seconds <= 0 or args.repetitions < 1 or args.threads < 1 or args.retries < 0:
        p.error("--seconds, --repetitions and --threads must be positive, --retries >= 0")
    if args.torch_worker:
        return torch_worker(args)

    workloads = [WORKLOADS[n] for n in args.workloads]
    load1 = os.getloadavg()[0]
    print(f"threads: {args.threads}; workloads: {', '.join(args.workloads)}; {args.repetitions} x >="
          f" {args.seconds:g} s per measurement; load average {load1:.2f}")
    if load1 > 0.5:
        print("WARNING: the machine is not idle (load average > 0.5); timings will be noisy.")

    convis = None if args.torch_only else run_convis(args, workloads)
    torch_res = run_torch(args, workloads)
    rows = print_report(workloads, convis, torch_res)
    paired = (run_paired(args, workloads, torch_res)
              if args.paired_rounds > 0 and convis and torch_res else [])
    memory = ([] if args.no_memory or "ig" not in args.workloads
              else [run_memory(args, WORKLOADS["ig"], torch_res)])
    checks = (torch_res or {}).get("checks", {})
    if any(not c["ok"] for c in checks.values()):
        print(f"\nWARNING: a PyTorch check failed: {json.dumps(checks)}")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "threads": args.threads, "seconds": args.seconds, "repetitions": args.repetitions,
            "goal_time_ratio": GOAL, "comparison": rows, "paired": paired, "memory": memory,
            "convis": convis, "pytorch": torch_res}, indent=2))
        print(f"\nresults written to {args.json}")
    # A missing convis binary is not an error (PyTorch numbers are still useful); no numbers at all is.
    return 0 if (convis or torch_res) else 1


if __name__ == "__main__":
    sys.exit(main())
