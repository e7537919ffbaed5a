#!/usr/bin/env python3
"""torchvision's VGG16 and ResNet-50 in convis and in PyTorch, in one run on this machine.

    /usr/bin/python3 bench/compare_zoo.py [--convis-bench build/bin/convis_zoo_bench] [--json out.json]

Workloads (224x224x3, 1000 classes): vgg16 forward at batch 1 and 16, resnet50 forward at batch 1
and 16 (eval mode, torch.inference_mode()), resnet50 train at batch 16 (zero-grad, forward in train
mode, softmax cross-entropy, backward; no optimiser step), as bench/zoo_bench.cpp does.

PyTorch runs at its best, as bench/compare_pytorch.py arranges it (its torch_env): a child process
with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, jemalloc preloaded (freed pages kept), every thread
pool at the core count; NCHW and channels_last, OMP_WAIT_POLICY default and passive: the fastest of
the four is reported. Each figure is the median of --repetitions timings of at least --seconds.
Then each workload is measured once more per side in alternation (--paired-rounds rounds;
medians), the headline figures, since these machines drift. Prints images/s and the time ratio
convis time / PyTorch time (the issue's measure: goal <= 0.8).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare_pytorch as cp  # noqa: E402

WORKLOADS = [("vgg16", "forward", 1), ("vgg16", "forward", 16), ("resnet50", "forward", 1),
             ("resnet50", "forward", 16), ("resnet50", "train", 16)]
BENCH_NAME = {("vgg16", "forward"): "BM_VGG16_Forward", ("resnet50", "forward"): "BM_ResNet50_Forward",
              ("resnet50", "train"): "BM_ResNet50_Train"}


def key(w):
    return f"{w[0]} {w[1]}/{w[2]}"


def run_convis(args, workloads, repetitions):
    names = "|".join(f"{BENCH_NAME[(m, k)]}/{b}" for m, k, b in workloads)
    env = os.environ.copy()
    env["OMP_NUM_THREADS"] = str(args.threads)
    cmd = [args.convis_bench, "--benchmark_format=json", f"--benchmark_filter=^({names})(/|$)",
           f"--benchmark_repetitions={repetitions}", f"--benchmark_min_time={args.seconds}"]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    rates = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name, batch = b["run_name"].split("/")[:2]
        for w in workloads:
            if BENCH_NAME[(w[0], w[1])] == name and str(w[2]) == batch:
                seconds = b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9, "s": 1.0}[b["time_unit"]]
                rates.setdefault(key(w), []).append(w[2] / seconds)
    return {k: statistics.median(v) for k, v in rates.items()}


def torch_worker(args):
    import torch
    import torchvision
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError:
        pass
    layout = torch.channels_last if args.layout == "channels_last" else torch.contiguous_format
    res = {}
    for m, kind, batch in [tuple(w.split(":")) for w in args.worker_workloads.split(",")]:
        batch = int(batch)
        net = getattr(torchvision.models, m)(num_classes=1000).to(memory_format=layout)
        x = torch.randn(batch, 3, 224, 224).to(memory_format=layout)
        if kind == "forward":
            net.eval()

            def step():
                with torch.inference_mode():
                    net(x)
        else:
            net.train()
            labels = torch.arange(batch) * 37 % 1000
            loss_fn = torch.nn.CrossEntropyLoss()

            def step():
                net.zero_grad(set_to_none=False)
                loss_fn(net(x), labels).backward()
        for _ in range(args.warmup):
            step()
        runs = []
        for _ in range(args.repetitions):
            n, t0 = 0, time.perf_counter()
            while True:
                step()
                n += 1
                dt = time.perf_counter() - t0
                if dt >= args.seconds:
                    break
            runs.append(n * batch / dt)
        res[f"{m} {kind}/{batch}"] = statistics.median(runs)
    Path(args.worker_result).write_text(json.dumps(res))
    return 0


def run_torch(args, workloads, repetitions, settings):
    best = {}
    for layout, wait in settings:
        env = cp.torch_env(args, "default", wait)
        with tempfile.TemporaryDirectory(prefix="convis-zoo-") as tmp:
            results = run_torch_worker(args, workloads, repetitions, layout, env, Path(tmp) / "result.json")
        for k, v in results.items():
            print(f"[torch] {k:18s} {layout}/{wait}: {v:8.2f} img/s", flush=True)
            if k not in best or v > best[k][0]:
                best[k] = (v, (layout, wait))
    return best


def run_torch_worker(args, workloads, repetitions, layout, env, out):
    cmd = [args.python, __file__, "--torch-worker", "--worker-result", str(out), "--layout", layout,
           "--worker-workloads", ",".join(f"{m}:{k}:{b}" for m, k, b in workloads),
           "--repetitions", str(repetitions), "--seconds", str(args.seconds), "--warmup", str(args.warmup),
           "--threads", str(args.threads)]
    subprocess.run(cmd, env=env, check=True)
    return json.loads(out.read_text())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--convis-bench", default=str(HERE.parent / "build" / "bin" / "convis_zoo_bench"))
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--paired-rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=cp.usable_cores())
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--jemalloc")
    p.add_argument("--no-jemalloc", action="store_true")
    p.add_argument("--malloc-conf", default=cp.DEFAULT_MALLOC_CONF)
    p.add_argument("--json")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-result", help=argparse.SUPPRESS)
    p.add_argument("--worker-workloads", help=argparse.SUPPRESS)
    p.add_argument("--layout", default="nchw", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_worker:
        return torch_worker(args)

    print(f"threads: {args.threads}; {args.repetitions} x >= {args.seconds} s per measurement", flush=True)
    convis = run_convis(args, WORKLOADS, args.repetitions)
    settings = [(l, w) for l in ("nchw", "channels_last") for w in ("default", "passive")]
    torch_best = run_torch(args, WORKLOADS, args.repetitions, settings)
    paired = {}
    for w in WORKLOADS:
        k = key(w)
        c_runs, t_runs = [], []
        for _ in range(args.paired_rounds):
            c_runs.append(run_convis(args, [w], 1)[k])
            t_runs.append(run_torch(args, [w], 1, [torch_best[k][1]])[k][0])
        paired[k] = {"convis": statistics.median(c_runs), "pytorch": statistics.median(t_runs),
                     "convis_runs": c_runs, "pytorch_runs": t_runs, "setting": "/".join(torch_best[k][1])}
    print("\nworkload            convis img/s  PyTorch img/s  time ratio  (first pass)  PyTorch setting")
    rows = []
    for w in WORKLOADS:
        k = key(w)
        pr = paired[k]
        ratio = pr["pytorch"] / pr["convis"]
        first = torch_best[k][0] / convis[k]
        print(f"{k:18s} {pr['convis']:12.2f} {pr['pytorch']:14.2f} {ratio:11.2f} {first:13.2f}  {pr['setting']}")
        rows.append({"workload": k, "convis": pr["convis"], "pytorch": pr["pytorch"], "time_ratio": ratio,
                     "first_pass_ratio": first, **pr})
    print("(time ratio: convis time / PyTorch time, paired medians; goal <= 0.8)")
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "rows": rows,
                                               "convis_first": convis,
                                               "pytorch_first": {k: v[0] for k, v in torch_best.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
