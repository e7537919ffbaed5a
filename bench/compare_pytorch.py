#!/usr/bin/env python3
"""Compare convis' ZFNet throughput with PyTorch's on this machine.

What
    Runs, one after the other in a single invocation,

    1. the convis Google Benchmark program (``--convis-bench``, default
       ``<repo>/build/bin/convis_bench``) restricted to ``BM_ZFNet_Forward/1``,
       ``BM_ZFNet_Forward/16``, ``BM_ZFNet_Train/16`` and ``BM_ZFNet_Project/1``,
       in JSON mode, with ``--repetitions`` repetitions of at least ``--seconds``
       each, taking the median.  Throughput is batch / ``real_time`` (wall clock, as on the
       PyTorch side); the benchmark's ``images_per_second`` (or
       ``items_per_second``) counter is recorded too, and a mismatch is
       reported (Google Benchmark rates use CPU time unless the benchmark
       calls ``UseRealTime()``);
    2. the same workloads in PyTorch, on the identical network
       (``bench/pytorch_zfnet.py``): 224x224x3 input, 1000 classes;
       ``forward`` is eval mode under ``torch.inference_mode()``; ``train`` is
       zero-grad + forward (dropout active) + softmax cross-entropy + backward,
       without an optimiser step; ``project`` is the deconvnet projection
       (Zeiler & Fergus, paper mode) of the strongest pool5 activation of
       channel 0 down to pixels, for one image whose forward pass was recorded
       beforehand (not timed): from pool5 to conv1, max_unpool2d with the
       recorded indices, relu, conv_transpose2d with the conv's weights (no
       bias), LRN skipped; its rate is projections per second,

    and prints images/s for both, the speed-up (convis img/s / PyTorch img/s),
    the time ratio (its inverse, the issue's measure) and the PyTorch setting
    that won; then, per workload, convis and PyTorch in that winning setting
    measured in alternation (``--paired-rounds``, medians: the headline
    figures, since these machines drift over minutes); then

    3. each ZFNet convolution's forward beside the bare GEMM of the product it
       performs (``BM_Conv_Forward`` / ``BM_Conv_Gemm``, GFLOP/s and their ratio);
    4. peak resident memory of ``forward/16`` and ``train/16``: one process per
       side and workload (convis_bench running only that benchmark; the PyTorch
       worker running only that workload in its fastest layout), from the
       kernel's rusage of that child.

Why like this
    The comparison is only worth something if PyTorch runs at its best here, so
    the PyTorch side runs in a child process (``--torch-worker``) started with
    a tuned environment:

    * ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` removed, so OpenBLAS (if it
      is the BLAS in use) picks its kernels for the real CPU;
    * jemalloc ``LD_PRELOAD``-ed, with ``MALLOC_CONF`` that keeps freed pages
      (jemalloc's defaults hand allocations above 8 MiB straight back to the
      kernel, and re-faulting ZFNet's ~74 MB activations costs more than the
      convolutions on VMs where page faults are expensive);
    * ``OMP/MKL/OPENBLAS_NUM_THREADS``, ``torch.set_num_threads`` and
      ``torch.set_num_interop_threads`` all set to the usable core count
      (PyTorch's own default can be lower: it counts physical cores);
    * both NCHW and channels_last are timed, with ``OMP_WAIT_POLICY`` unset and
      ``passive`` (``--wait-policies``), and ATen's CPU capability at its
      default and at AVX-512 (``--capabilities``); the fastest is reported;
    * inputs are allocated once, gradient buffers are reused
      (``zero_grad(set_to_none=False)``), warm-up precedes timing, and each
      timing is the median of several runs of at least ``--seconds`` each.

    The convis binary runs with its ordinary environment except
    ``OMP_NUM_THREADS`` (same thread count), and never at the same time as
    PyTorch.

    Both sides also record how much CPU other processes used while they were
    measured (from ``/proc/stat``).  A PyTorch run during which others used
    more than 10% of the CPUs is repeated (``--retries``); anything still
    disturbed, on either side, is flagged as unreliable.

Usage
    python3 bench/compare_pytorch.py                       # both sides
    python3 bench/compare_pytorch.py --only-torch --seconds 2
    python3 bench/compare_pytorch.py --workloads forward/16,train/16 --json out.json

The interpreter running the PyTorch worker must be able to ``import torch``
(``--python`` chooses it; it defaults to the one running this script).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve()
BENCH_DIR = SCRIPT.parent
REPO_ROOT = BENCH_DIR.parent

IMAGE_SIZE = 224
NUM_CLASSES = 1000
LAYOUTS = ("nchw", "channels_last")

#: jemalloc settings for the PyTorch worker: never hand freed pages back to the
#: kernel (decay -1), including for large ("oversize") allocations.
DEFAULT_MALLOC_CONF = "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1"


@dataclass(frozen=True)
class Workload:
    name: str          # as given to --workloads and printed
    benchmark: str     # Google Benchmark function name in convis_bench
    batch: int
    train: bool
    project: bool = False  # deconvnet projection from pool5 (forward recorded, not timed)


WORKLOADS = {
    w.name: w
    for w in (
        Workload("forward/1", "BM_ZFNet_Forward", 1, False),
        Workload("forward/16", "BM_ZFNet_Forward", 16, False),
        Workload("train/16", "BM_ZFNet_Train", 16, True),
        Workload("project/1", "BM_ZFNet_Project", 1, False, project=True),
    )
}


# --------------------------------------------------------------------------- helpers


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def find_jemalloc() -> str | None:
    """Path of libjemalloc.so.2 in the usual library directories, or None."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    candidates = [
        f"/usr/lib/{multiarch}/libjemalloc.so.2",
        f"/lib/{multiarch}/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2",
        "/usr/local/lib/libjemalloc.so.2",
        "/usr/lib/libjemalloc.so.2",
    ]
    return next((c for c in candidates if os.path.exists(c)), None)


def parse_workloads(text: str) -> list[Workload]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}"
        )
    return [WORKLOADS[n] for n in dict.fromkeys(names)]


def parse_layouts(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(n not in LAYOUTS for n in names):
        raise argparse.ArgumentTypeError(f"layouts must be among {', '.join(LAYOUTS)}")
    return list(dict.fromkeys(names))


#: Above this share of the CPUs used by other processes, a measurement is retried
#: (PyTorch) or flagged (convis).
BUSY_LIMIT = 0.10


def fmt_rate(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def _system_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (from /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _children_cpu_seconds() -> float:
    t = os.times()
    return t.children_user + t.children_system


class CpuMeter:
    """Context manager: wall time of a span and how the machine's CPU time was shared.

    ``own_share`` is the CPU time of the measured code (this process, or with
    ``children=True`` the finished child processes) and ``other_share`` that of
    everything else, both as fractions of wall time x CPU count.  A high
    ``other_share`` means other processes competed and the timing is unreliable.
    """

    def __init__(self, children: bool = False):
        self._own = _children_cpu_seconds if children else _own_cpu_seconds

    def __enter__(self):
        self._busy0, self._own0, self._t0 = _system_busy_seconds(), self._own(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._t0
        busy1, own = _system_busy_seconds(), self._own() - self._own0
        capacity = self.wall * (os.cpu_count() or 1)
        self.own_share = own / capacity
        self.other_share = (None if busy1 is None or self._busy0 is None
                            else max(0.0, busy1 - self._busy0 - own) / capacity)
        return False


# --------------------------------------------------------------------------- convis side


def _benchmark_key(name: str) -> tuple[str, int] | None:
    """('BM_ZFNet_Forward', 16) from 'BM_ZFNet_Forward/16[/real_time...]' or '.../batch:16'."""
    parts = name.split("/")
    for part in parts[1:]:
        m = re.fullmatch(r"(?:[A-Za-z_]\w*:)?(\d+)", part)
        if m:
            return parts[0], int(m.group(1))
    return None


_TIME_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def convis_env(args) -> dict:
    """convis runs with its ordinary environment: the thread count, nothing tuned."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    env.pop("OMP_WAIT_POLICY", None)
    return env


def run_convis(args, workloads: list[Workload]) -> dict | None:
    """Run convis_bench; return {workload: result dict}, or None when it could not run."""
    exe = Path(args.convis_bench)
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        print(f"\n[convis] benchmark binary not found (or not executable): {exe}\n"
              "[convis] build it first (target convis_bench) or pass --convis-bench PATH;"
              " no convis numbers this time.", flush=True)
        return None

    alternatives = "|".join(
        f"{w.benchmark}/([A-Za-z_]+:)?{w.batch}" for w in workloads
    )
    cmd = [
        str(exe),
        "--benchmark_format=json",
        f"--benchmark_filter=^({alternatives})(/|$)",
        f"--benchmark_repetitions={args.repetitions}",
        f"--benchmark_min_time={args.seconds:g}",
        *args.bench_arg,
    ]
    env = convis_env(args)
    print(f"\n[convis] running: OMP_NUM_THREADS={args.threads} {' '.join(cmd)}", flush=True)
    with CpuMeter(children=True) as m:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    print(f"[convis] finished in {m.wall:.1f} s (exit status {proc.returncode};"
          f" CPU use: own {m.own_share:.0%}"
          + ("" if m.other_share is None else f", others {m.other_share:.0%}") + ")", flush=True)
    if m.other_share is not None and m.other_share > BUSY_LIMIT:
        print(f"[convis] WARNING: other processes used {m.other_share:.0%} of the CPUs while"
              " convis_bench ran; its numbers are not reliable.", flush=True)
    if proc.returncode != 0:
        print("[convis] benchmark failed; ignoring its results.", flush=True)
        return None
    try:
        start = proc.stdout.index("{")
        data = json.loads(proc.stdout[start:])
    except ValueError as e:
        print(f"[convis] could not parse the JSON output: {e}", flush=True)
        return None

    # Throughput is computed from Google Benchmark's per-iteration wall time
    # (real_time), the same definition the PyTorch side uses.  The benchmark's
    # own images_per_second / items_per_second counter is kept for reference:
    # unless the benchmark calls UseRealTime(), Google Benchmark divides it by
    # the main thread's CPU time, which is not wall-clock throughput.
    by_key = {(w.benchmark, w.batch): w for w in workloads}
    wall: dict[str, list[float]] = {w.name: [] for w in workloads}
    counter: dict[str, list[float]] = {w.name: [] for w in workloads}
    names: dict[str, str] = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates: the median is recomputed below
        key = _benchmark_key(b.get("run_name", b.get("name", "")))
        w = by_key.get(key) if key else None
        if w is None:
            continue
        if b.get("error_occurred"):
            print(f"[convis] {b['name']}: error: {b.get('error_message')}", flush=True)
            continue
        names[w.name] = b.get("run_name", b["name"])
        seconds = b["real_time"] * _TIME_UNIT_SECONDS[b.get("time_unit", "ns")]
        wall[w.name].append(w.batch / seconds)
        rate = b.get("images_per_second", b.get("items_per_second"))
        if rate is not None:
            counter[w.name].append(float(rate))

    results = {}
    for w in workloads:
        if not wall[w.name]:
            print(f"[convis] no result for {w.benchmark}/{w.batch}", flush=True)
            continue
        value = statistics.median(wall[w.name])
        reported = statistics.median(counter[w.name]) if counter[w.name] else None
        results[w.name] = {"benchmark": names[w.name], "images_per_second": value,
                           "runs": wall[w.name], "counter_images_per_second": reported}
        if reported is None:
            print(f"[convis] {names[w.name]}: no images_per_second/items_per_second counter;"
                  " using batch / real_time", flush=True)
        elif abs(reported / value - 1) > 0.03:
            print(f"[convis] note: {names[w.name]} reports {reported:,.2f} img/s but its wall time"
                  f" gives {value:,.2f} img/s (counter not based on wall time? the benchmark"
                  " should call UseRealTime()); using the wall-time figure", flush=True)
    return {"context": data.get("context", {}), "results": results}


def run_conv_layers(args) -> list[dict]:
    """Each ZFNet convolution's forward beside the bare GEMM of the same product (bench/conv_layers.cpp)."""
    exe = Path(args.convis_bench)
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        return []
    cmd = [str(exe), "--benchmark_format=json", "--benchmark_filter=^BM_Conv_(Forward|Gemm)/",
           f"--benchmark_min_time={min(args.seconds, 1.0):g}", "--benchmark_repetitions=3"]
    print(f"\n[convis] per layer: {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, env=convis_env(args), stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print("[convis] the per-layer benchmarks failed.", flush=True)
        return []
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    rates: dict[tuple[str, int, int], list[float]] = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or "GFLOPs" not in b:
            continue
        m = re.match(r"BM_Conv_(Forward|Gemm)/layer:(\d+)/batch:(\d+)", b.get("run_name", b["name"]))
        if m:
            rates.setdefault((m.group(1), int(m.group(2)), int(m.group(3))), []).append(b["GFLOPs"])
    rows = []
    for (kind, layer, batch) in sorted(k for k in rates if k[0] == "Forward"):
        conv = statistics.median(rates[(kind, layer, batch)])
        gemm = statistics.median(rates.get(("Gemm", layer, batch), [math.nan]))
        rows.append({"layer": f"conv{layer}", "batch": batch, "conv_gflops": conv, "gemm_gflops": gemm,
                     "share": conv / gemm})
    print(f"\n{'layer':<7} {'batch':>5} {'conv GFLOP/s':>13} {'GEMM GFLOP/s':>13} {'conv/GEMM':>10}")
    for r in rows:
        print(f"{r['layer']:<7} {r['batch']:>5} {r['conv_gflops']:13.1f} {r['gemm_gflops']:13.1f} {r['share']:10.0%}")
    return rows


def peak_rss_kib(cmd: list[str], env: dict) -> int | None:
    """Peak resident memory of a child process, from the kernel's rusage of that child alone."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss if proc.returncode == 0 else None


def run_memory(args, workloads: list[Workload], torch_res: dict | None) -> list[dict]:
    """Peak RSS of one process per side and workload: convis_bench running only that benchmark,
    and the PyTorch worker running only that workload in its fastest layout."""
    rows = []
    exe = Path(args.convis_bench)
    for w in workloads:
        row = {"workload": w.name, "convis_peak_mib": None, "pytorch_peak_mib": None, "pytorch_layout": None}
        if exe.is_file() and not args.only_torch:
            kib = peak_rss_kib([str(exe), f"--benchmark_filter=^{w.benchmark}/([A-Za-z_]+:)?{w.batch}(/|$)",
                                "--benchmark_min_time=0.5"], convis_env(args))
            row["convis_peak_mib"] = kib / 1024 if kib else None
        best = ((torch_res or {}).get("results", {}).get(w.name, {}).get("best_layout") or "nchw").split("/")[0]
        if not args.only_convis:
            with tempfile.TemporaryDirectory(prefix="convis-torch-") as tmp:
                kib = peak_rss_kib([args.python, str(SCRIPT), "--torch-worker", "--worker-result", str(Path(tmp) / "m.json"),
                                    "--workloads", w.name, "--layouts", best, "--threads", str(args.threads),
                                    "--seconds", "0.5", "--repetitions", "1", "--warmup", "2", "--retries", "0"],
                                   torch_env(args, "default", "default"))
            row["pytorch_peak_mib"], row["pytorch_layout"] = (kib / 1024 if kib else None), best
        rows.append(row)
    print(f"\n{'workload':<12} {'convis peak RSS':>16} {'PyTorch peak RSS':>17}  (whole process; PyTorch layout)")
    for r in rows:
        c = "n/a" if r["convis_peak_mib"] is None else f"{r['convis_peak_mib']:,.0f} MiB"
        t = "n/a" if r["pytorch_peak_mib"] is None else f"{r['pytorch_peak_mib']:,.0f} MiB"
        print(f"{r['workload']:<12} {c:>16} {t:>17}  {r['pytorch_layout'] or ''}")
    return rows


# --------------------------------------------------------------------------- PyTorch side (parent)


def torch_env(args, capability: str, wait_policy: str) -> dict:
    """The PyTorch worker's tuned environment (see the module's docstring)."""
    env = os.environ.copy()
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability != "default":
        env["ATEN_CPU_CAPABILITY"] = capability
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy != "default":
        env["OMP_WAIT_POLICY"] = wait_policy
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    jemalloc = None if args.no_jemalloc else (args.jemalloc or find_jemalloc())
    if jemalloc:
        env["LD_PRELOAD"] = ":".join(p for p in (jemalloc, env.get("LD_PRELOAD")) if p)
        if args.malloc_conf:
            env["MALLOC_CONF"] = args.malloc_conf
    elif not args.no_jemalloc:
        print("\n[torch] WARNING: libjemalloc.so.2 not found (install libjemalloc2 or pass"
              " --jemalloc PATH); PyTorch runs with glibc malloc.", flush=True)
    return env


def run_torch_once(args, workloads: list[Workload], capability: str, wait_policy: str) -> dict | None:
    """Run the PyTorch measurements in a child process with a tuned environment."""
    env = torch_env(args, capability, wait_policy)
    with tempfile.TemporaryDirectory(prefix="convis-torch-") as tmp:
        result_path = Path(tmp) / "torch.json"
        cmd = [
            args.python, str(SCRIPT), "--torch-worker",
            "--worker-result", str(result_path),
            "--workloads", ",".join(w.name for w in workloads),
            "--layouts", ",".join(args.layouts),
            "--threads", str(args.threads),
            "--seconds", repr(args.seconds),
            "--repetitions", str(args.repetitions),
            "--warmup", str(args.warmup),
            "--retries", str(args.retries),
        ]
        print(f"\n[torch] running worker: {args.python} (ATEN_CPU_CAPABILITY={capability}"
              f" OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '')} LD_PRELOAD={env.get('LD_PRELOAD', '')!s}"
              f" MALLOC_CONF={env.get('MALLOC_CONF', '')!s})", flush=True)
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0 or not result_path.exists():
            print(f"[torch] worker failed (exit status {proc.returncode}).", flush=True)
            return None
        return json.loads(result_path.read_text())


def run_torch(args, workloads: list[Workload]) -> dict | None:
    """PyTorch at its best: every ATen CPU capability asked for (ATen's own kernels default to
    AVX2 even where AVX-512 exists), every OpenMP wait policy (idle threads that spin steal
    time from the working ones on these 2-core machines: passive was up to 10% faster here),
    every layout; per workload the fastest wins."""
    merged = None
    for cap, wait in ((c, w) for c in args.capabilities for w in args.wait_policies):
        res = run_torch_once(args, workloads, cap, wait)
        if res is None:
            continue
        if merged is None:
            merged = {k: v for k, v in res.items() if k != "results"}
            merged["results"] = {}
        for name, r in res.get("results", {}).items():
            tag = ("" if cap == "default" else f"/{cap}") + ("" if wait == "default" else f"/{wait}")
            m = merged["results"].setdefault(name, {"images_per_second": None, "best_layout": None, "layouts": {}})
            for layout, lr in r.get("layouts", {}).items():
                m["layouts"][layout + tag] = lr
            v = r.get("images_per_second")
            if v and (m["images_per_second"] is None or v > m["images_per_second"]):
                m["images_per_second"] = v
                m["best_layout"] = (r.get("best_layout") or "") + tag
    return merged


def run_paired(args, workloads: list[Workload], torch_res: dict | None) -> list[dict]:
    """The final word: per workload, convis and PyTorch in its best setting (found above) measured
    in alternation, ``--paired-rounds`` times each, medians compared. The machines drift by 10-20%
    over minutes; alternating puts both sides in the same minutes, and re-measuring the winning
    setting removes the bias of having picked the luckiest of eight PyTorch settings."""
    rows = []
    for w in workloads:
        best = (torch_res or {}).get("results", {}).get(w.name, {}).get("best_layout")
        if not best:
            continue
        parts = best.split("/")
        layout = parts[0]
        cap = next((c for c in parts[1:] if c in args.capabilities and c != "default"), "default")
        wait = next((p for p in parts[1:] if p in args.wait_policies and p != "default"), "default")
        one = argparse.Namespace(**vars(args))
        one.repetitions, one.layouts, one.retries = 1, [layout], 1
        c_rates, t_rates = [], []
        for _ in range(args.paired_rounds):
            c = run_convis(one, [w])
            if c and w.name in c["results"]:
                c_rates.append(c["results"][w.name]["images_per_second"])
            t = run_torch_once(one, [w], cap, wait)
            if t and w.name in t.get("results", {}):
                t_rates.append(t["results"][w.name]["images_per_second"])
        if c_rates and t_rates:
            c_med, t_med = statistics.median(c_rates), statistics.median(t_rates)
            rows.append({"workload": w.name, "pytorch_setting": best, "convis_runs": c_rates, "pytorch_runs": t_rates,
                         "convis_images_per_second": c_med, "pytorch_images_per_second": t_med,
                         "time_ratio_convis_over_pytorch": t_med / c_med})
    print(f"\npaired ({args.paired_rounds} alternating rounds per side; medians):")
    header = f"{'workload':<12} {'convis img/s':>13} {'PyTorch img/s':>14} {'time ratio':>11}  PyTorch setting"
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['workload']:<12} {r['convis_images_per_second']:13.2f} {r['pytorch_images_per_second']:14.2f}"
              f" {r['time_ratio_convis_over_pytorch']:11.2f}  {r['pytorch_setting']}")
        print(f"{'':<12} runs: convis {', '.join(f'{v:.2f}' for v in r['convis_runs'])};"
              f" PyTorch {', '.join(f'{v:.2f}' for v in r['pytorch_runs'])}")
    return rows


# --------------------------------------------------------------------------- PyTorch side (worker)


def _blas_description() -> str:
    """Which BLAS library the process has mapped, and what it is."""
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if line.strip() else ""
            base = os.path.basename(path)
            if re.match(r"lib(open)?blas|libblis|libmkl_rt|libflexiblas|libatlas", base) \
                    and path not in paths:
                paths.append(path)
    if not paths:
        return "none mapped (PyTorch's internal gemm)"
    descriptions = []
    for path in paths:
        real = os.path.realpath(path)
        kind = "unknown (probably the netlib reference BLAS: slow nn.Linear)"
        try:
            lib = ctypes.CDLL(real)
            if hasattr(lib, "openblas_get_config"):
                lib.openblas_get_config.restype = ctypes.c_char_p
                core = ""
                if hasattr(lib, "openblas_get_corename"):
                    lib.openblas_get_corename.restype = ctypes.c_char_p
                    core = f", core {lib.openblas_get_corename().decode()}"
                kind = f"OpenBLAS ({lib.openblas_get_config().decode().strip()}{core})"
            elif hasattr(lib, "bli_info_get_version_str"):
                kind = "BLIS"
            elif hasattr(lib, "mkl_get_version_string"):
                kind = "Intel MKL"
            elif hasattr(lib, "flexiblas_print_current_backend"):
                kind = "FlexiBLAS"
        except OSError:
            pass
        descriptions.append(f"{real} -> {kind}")
    return "; ".join(descriptions)


def _jemalloc_loaded() -> bool:
    with open("/proc/self/maps") as maps:
        return any("libjemalloc" in line for line in maps)


def torch_worker(args) -> int:
    try:
        import torch
        import torch.nn.functional as F
        from torch import nn
    except ImportError as e:
        print(f"[torch] cannot import torch with {sys.executable}: {e}\n"
              "[torch] run this script with an interpreter that has PyTorch"
              " (e.g. Debian's python3-torch) or pass --python.", flush=True)
        return 2

    # Thread pools first: set_num_interop_threads fails once inter-op work has started.
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError as e:
        print(f"[torch] set_num_interop_threads: {e}", flush=True)

    sys.path.insert(0, str(BENCH_DIR))
    from pytorch_zfnet import build_zfnet, check_architecture

    info = {
        "torch_version": torch.__version__,
        "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "jemalloc_preloaded": _jemalloc_loaded(),
        "malloc_conf": os.environ.get("MALLOC_CONF"),
        "blas": _blas_description(),
        "cpu_capability": next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                if "CPU capability" in l), "?"),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    }
    parallel = [l.strip() for l in torch.__config__.parallel_info().splitlines()
                if re.search(r"get_num|max_threads|backend|MKL|OpenMP|hardware_concurrency|_NUM_THREADS", l)]
    info["parallel_info"] = parallel

    print(f"[torch] torch {info['torch_version']}, mkldnn available: {info['mkldnn_available']},"
          f" MKL available: {info['mkl_available']}, CPU capability: {info['cpu_capability']}")
    print(f"[torch] threads: intra-op {info['num_threads']}, inter-op {info['num_interop_threads']}")
    print("[torch] parallel_info: " + " | ".join(parallel))
    print(f"[torch] jemalloc preloaded: {info['jemalloc_preloaded']}"
          f" (MALLOC_CONF={info['malloc_conf']})")
    print(f"[torch] BLAS: {info['blas']}")
    if "reference" in info["blas"]:
        print("[torch] WARNING: nn.Linear (fc6-fc8, forward and backward) runs on an unoptimised"
              " BLAS, so these numbers understate PyTorch; on Debian install libopenblas0-openmp"
              " (or another optimised libblas.so.3 alternative).")
    print(f"[torch] OPENBLAS_* environment: {info['openblas_env'] or 'none'}", flush=True)

    def make_model(layout: str, train: bool):
        torch.manual_seed(0)
        model = build_zfnet(NUM_CLASSES)
        check_architecture(model)
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
        return model.train(train)

    def make_projection_step(w: Workload, layout: str):
        """Deconvnet walk from pool5 (index 14) down to pixels; forward and signal prepared here."""
        model = make_model(layout, False)
        x = torch.randn(w.batch, 3, IMAGE_SIZE, IMAGE_SIZE)
        if layout == "channels_last":
            x = x.contiguous(memory_format=torch.channels_last)
        walk = []  # one callable per layer, pool5 first
        with torch.inference_mode():
            h = x
            for m in list(model)[:15]:  # conv1 .. pool5
                size = h.shape[-2:]
                if isinstance(m, nn.MaxPool2d):
                    h, idx = F.max_pool2d(h, m.kernel_size, m.stride, m.padding, m.dilation,
                                          ceil_mode=m.ceil_mode, return_indices=True)
                    walk.append(lambda s, m=m, idx=idx, size=size: F.max_unpool2d(
                        s, idx, m.kernel_size, m.stride, m.padding, output_size=size))
                elif isinstance(m, nn.Conv2d):
                    h = m(h)
                    (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
                    out_pad = (size[0] - ((h.shape[-2] - 1) * sh - 2 * ph + kh),
                               size[1] - ((h.shape[-1] - 1) * sw - 2 * pw + kw))
                    walk.append(lambda s, m=m, out_pad=out_pad: F.conv_transpose2d(
                        s, m.weight, None, m.stride, m.padding, out_pad))
                elif isinstance(m, nn.ReLU):
                    h = m(h)
                    walk.append(lambda s: F.relu(s, inplace=True))  # s is always a fresh tensor
                else:
                    h = m(h)  # LRN: identity in the deconvnet
            walk.reverse()
            # Signal: zeros except the strongest activation of channel 0, per image.
            n, c = h.shape[:2]
            act = h[:, 0].reshape(n, -1)
            where = act.argmax(1)
            signal = torch.zeros(h.shape)
            signal.view(n, c, -1)[torch.arange(n), 0, where] = act[torch.arange(n), where]
            if layout == "channels_last":
                signal = signal.contiguous(memory_format=torch.channels_last)
            out = signal
            for op in walk:
                out = op(out)
            assert out.shape == x.shape, f"projection shape {tuple(out.shape)} != {tuple(x.shape)}"

        def step():
            with torch.inference_mode():
                s = signal
                for op in walk:
                    s = op(s)
        return step

    def make_step(w: Workload, layout: str):
        if w.project:
            return make_projection_step(w, layout)
        model = make_model(layout, w.train)
        x = torch.randn(w.batch, 3, IMAGE_SIZE, IMAGE_SIZE)
        if layout == "channels_last":
            x = x.contiguous(memory_format=torch.channels_last)
        if w.train:
            target = torch.randint(0, NUM_CLASSES, (w.batch,))

            def step():
                model.zero_grad(set_to_none=False)
                loss = F.cross_entropy(model(x), target)
                loss.backward()
        else:
            def step():
                with torch.inference_mode():
                    model(x)
        return step

    results: dict[str, dict] = {}
    for w in (WORKLOADS[n] for n in args.workloads_list):
        per_layout = {}
        for layout in args.layouts:
            step = make_step(w, layout)
            # Warm-up: first iterations create gradient buffers, oneDNN primitives, caches.
            t_iter = math.inf
            for _ in range(max(1, args.warmup)):
                t0 = time.perf_counter()
                step()
                t_iter = min(t_iter, time.perf_counter() - t0)
            iters = max(1, math.ceil(args.seconds / t_iter))
            runs, own_share, other_share, retried = [], [], [], 0
            for _ in range(args.repetitions):
                for attempt in range(args.retries + 1):
                    with CpuMeter() as m:
                        for _ in range(iters):
                            step()
                    if m.other_share is None or m.other_share <= BUSY_LIMIT or attempt == args.retries:
                        break
                    retried += 1  # another process competed for the CPUs: measure again
                    time.sleep(1.0)
                runs.append(w.batch * iters / m.wall)
                own_share.append(m.own_share)
                if m.other_share is not None:
                    other_share.append(m.other_share)
            per_layout[layout] = {"images_per_second": statistics.median(runs), "runs": runs,
                                  "iterations_per_run": iters, "own_cpu_share": own_share,
                                  "other_cpu_share": other_share, "retried_runs": retried}
            others = f", others {max(other_share):.0%}" if other_share else ""
            again = f"; {retried} run(s) retried" if retried else ""
            print(f"[torch] {w.name:<11} {layout:<14} {statistics.median(runs):10.2f} img/s"
                  f"  (runs: {', '.join(f'{r:.2f}' for r in runs)}; {iters} iterations each;"
                  f" CPU use: own {statistics.median(own_share):.0%}{others}{again})", flush=True)
            if other_share and max(other_share) > BUSY_LIMIT:
                print(f"[torch] WARNING: other processes used up to {max(other_share):.0%} of the"
                      " CPUs during this measurement; it is not reliable.", flush=True)
            del step
        best = max(per_layout, key=lambda k: per_layout[k]["images_per_second"])
        results[w.name] = {"layouts": per_layout, "best_layout": best,
                           "images_per_second": per_layout[best]["images_per_second"]}

    Path(args.worker_result).write_text(json.dumps({"info": info, "results": results}, indent=2))
    return 0


# --------------------------------------------------------------------------- report


def print_report(workloads, convis, torch_res) -> list[dict]:
    rows = []
    for w in workloads:
        c = (convis or {}).get("results", {}).get(w.name, {}).get("images_per_second")
        t = (torch_res or {}).get("results", {}).get(w.name, {})
        tv = t.get("images_per_second")
        rows.append({
            "workload": w.name,
            "convis_images_per_second": c,
            "pytorch_images_per_second": tv,
            "ratio_convis_over_pytorch": (c / tv) if c and tv else None,
            "time_ratio_convis_over_pytorch": (tv / c) if c and tv else None,
            "pytorch_best_layout": t.get("best_layout"),
            "pytorch_layouts": {k: v["images_per_second"] for k, v in t.get("layouts", {}).items()},
        })

    header = (f"{'workload':<12} {'convis img/s':>13} {'PyTorch img/s':>14} {'speed-up':>9}"
              f" {'time ratio':>11}  PyTorch setting")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        ratio = "n/a" if r["ratio_convis_over_pytorch"] is None else f"{r['ratio_convis_over_pytorch']:.2f}x"
        time_ratio = "n/a" if r["time_ratio_convis_over_pytorch"] is None else f"{r['time_ratio_convis_over_pytorch']:.2f}"
        print(f"{r['workload']:<12} {fmt_rate(r['convis_images_per_second']):>13}"
              f" {fmt_rate(r['pytorch_images_per_second']):>14} {ratio:>9} {time_ratio:>11}"
              f"  {r['pytorch_best_layout'] or 'n/a'}")
    print("(speed-up: convis img/s ÷ PyTorch img/s; time ratio: convis time ÷ PyTorch time)")
    if any(r["pytorch_layouts"] for r in rows):
        print("\nPyTorch by layout (img/s): " + "; ".join(
            f"{r['workload']}: " + ", ".join(f"{k} {v:,.2f}" for k, v in r["pytorch_layouts"].items())
            for r in rows if r["pytorch_layouts"]))
    return rows


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--convis-bench", default=str(REPO_ROOT / "build" / "bin" / "convis_bench"),
                   help="convis Google Benchmark binary (default: %(default)s)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated subset of: %(default)s")
    p.add_argument("--layouts", default=",".join(LAYOUTS),
                   help="PyTorch memory layouts to try (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="minimum seconds per timed run, both sides (default: %(default)s)")
    p.add_argument("--repetitions", type=int, default=3,
                   help="timed runs per workload; the median is reported (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=3,
                   help="PyTorch warm-up iterations per workload and layout (default: %(default)s)")
    p.add_argument("--retries", type=int, default=2,
                   help="times a PyTorch run is repeated when other processes used more than"
                        f" {BUSY_LIMIT * 100:.0f}%% of the CPUs meanwhile (default: %(default)s)")
    p.add_argument("--threads", type=int, default=usable_cores(),
                   help="threads for both sides (default: usable cores, %(default)s)")
    p.add_argument("--only-torch", action="store_true", help="skip the convis benchmark")
    p.add_argument("--only-convis", action="store_true", help="skip the PyTorch measurements")
    p.add_argument("--bench-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for convis_bench (repeatable), e.g. --bench-arg=--benchmark_enable_random_interleaving=true")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the PyTorch worker (default: %(default)s)")
    p.add_argument("--jemalloc", help="path of libjemalloc to preload (default: searched)")
    p.add_argument("--no-jemalloc", action="store_true", help="do not preload jemalloc")
    p.add_argument("--malloc-conf", default=DEFAULT_MALLOC_CONF,
                   help="MALLOC_CONF for the worker when jemalloc is preloaded; '' leaves"
                        " MALLOC_CONF as inherited (default: %(default)s)")
    p.add_argument("--capabilities", default=None,
                   help="ATEN_CPU_CAPABILITY values to try, comma-separated; 'default' leaves it unset"
                        " (default: default,avx512 where the CPU has AVX-512, else default)")
    p.add_argument("--wait-policies", default="default,passive",
                   help="OMP_WAIT_POLICY values to try for PyTorch, comma-separated; 'default' leaves it"
                        " unset (default: %(default)s). convis always runs without it.")
    p.add_argument("--paired-rounds", type=int, default=3,
                   help="alternating convis / best-PyTorch rounds per workload at the end; 0 skips them"
                        " (default: %(default)s)")
    p.add_argument("--no-layers", action="store_true",
                   help="skip the per-layer convolution vs GEMM benchmarks")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the peak-memory runs (one process per side for forward/16 and train/16)")
    p.add_argument("--json", metavar="PATH", help="also write all results as JSON to PATH")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    try:
        workloads = parse_workloads(args.workloads)
        args.layouts = parse_layouts(args.layouts)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if args.seconds <= 0 or args.repetitions < 1 or args.threads < 1 or args.retries < 0:
        p.error("--seconds, --repetitions and --threads must be positive, --retries >= 0")
    args.workloads_list = [w.name for w in workloads]
    if args.capabilities is None:
        try:
            has_avx512 = "avx512f" in Path("/proc/cpuinfo").read_text()
        except OSError:
            has_avx512 = False
        args.capabilities = "default,avx512" if has_avx512 else "default"
    args.capabilities = [c.strip() for c in args.capabilities.split(",") if c.strip()]
    args.wait_policies = [c.strip() for c in args.wait_policies.split(",") if c.strip()] or ["default"]

    if args.torch_worker:
        return torch_worker(args)
    if args.only_torch and args.only_convis:
        p.error("--only-torch and --only-convis exclude each other")

    load1 = os.getloadavg()[0]
    print(f"threads: {args.threads}; workloads: {', '.join(args.workloads_list)};"
          f" {args.repetitions} x >= {args.seconds:g} s per measurement; load average {load1:.2f}")
    if load1 > 0.5:
        print("WARNING: the machine is not idle (load average > 0.5); timings will be noisy.")

    convis = None if args.only_torch else run_convis(args, workloads)
    torch_res = None if args.only_convis else run_torch(args, workloads)
    rows = print_report(workloads, convis, torch_res)
    paired = ([] if args.paired_rounds < 1 or args.only_torch or args.only_convis or not torch_res
              else run_paired(args, workloads, torch_res))
    layers = [] if args.no_layers or args.only_torch else run_conv_layers(args)
    memory_workloads = [w for w in workloads if w.name in ("forward/16", "train/16")]
    memory = [] if args.no_memory or not memory_workloads else run_memory(args, memory_workloads, torch_res)

    if args.json:
        Path(args.json).write_text(json.dumps({
            "threads": args.threads,
            "seconds": args.seconds,
            "repetitions": args.repetitions,
            "comparison": rows,
            "paired": paired,
            "conv_layers": layers,
            "memory": memory,
            "convis": convis,
            "pytorch": torch_res,
        }, indent=2))
        print(f"\nresults written to {args.json}")
    # A missing convis binary is not an error (PyTorch numbers are still useful);
    # producing no numbers at all is.
    return 0 if (convis or torch_res) else 1


if __name__ == "__main__":
    sys.exit(main())
