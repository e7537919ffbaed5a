#!/usr/bin/env bash
# The GPU check, in one call: build (or take prebuilt binaries), run the GPU tests, time convis's
# GPU workloads and PyTorch's on the same GPU, and print a table of ratios last.
#
#   bash bench/gpu_check.sh                      build in $BUILD_DIR (default build-gpu), then run
#   CONVIS_GPU_PREBUILT=DIR bash bench/gpu_check.sh
#                                                run DIR/bin/test_gpu and DIR/bin/convis_gpu_bench as
#                                                they are (DIR/lib is added to the library path):
#                                                for a machine without Eigen, doctest or Benchmark
#
# cuDNN is taken from the CUDA folder, or else from PyTorch's Python package nvidia-cudnn-cu13
# (headers and libcudnn.so.9 both). Without a GPU every step still runs and says what it skipped.
# Outputs (logs, JSON) go to $OUT when set, else to $BUILD_DIR/gpu_check.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
build=${BUILD_DIR:-build-gpu}
out=${OUT:-$build/gpu_check}
mkdir -p "$out"
say() { echo "gpu_check [$(( $(date +%s) - start )) s]: $*"; }
py=$(command -v python3 || true)

# ---- CUDA, cuDNN ----------------------------------------------------------------------------------
cuda=${CUDA_HOME:-/usr/local/cuda}
export PATH="$cuda/bin:$PATH"
cudnn_root=""
if ! ls "$cuda"/include/cudnn.h "$cuda"/targets/*/include/cudnn.h >/dev/null 2>&1 && [ -n "$py" ]; then
    cudnn_root=$("$py" -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__) if nvidia.cudnn.__file__ else list(nvidia.cudnn.__path__)[0])' 2>/dev/null || true)
    [ -n "$cudnn_root" ] && say "cuDNN from PyTorch's package: $cudnn_root"
fi
libpath="$cuda/lib64:$cuda/lib"
[ -n "$cudnn_root" ] && libpath="$cudnn_root/lib:$libpath"
# cuBLAS too, where the CUDA folder lacks it.
if [ -n "$py" ] && ! ls "$cuda"/lib*/libcublas.so.* >/dev/null 2>&1; then
    cublas=$("$py" -c 'import nvidia.cublas, os; print(list(nvidia.cublas.__path__)[0])' 2>/dev/null || true)
    [ -n "$cublas" ] && libpath="$cublas/lib:$libpath"
fi
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu_check: GPU /'
else
    say "no nvidia-smi: no GPU here (the GPU tests will skip, the timings will not run)"
fi

# ---- build ----------------------------------------------------------------------------------------
if [ -n "${CONVIS_GPU_PREBUILT:-}" ]; then
    bin="$CONVIS_GPU_PREBUILT/bin"
    libpath="$CONVIS_GPU_PREBUILT/lib:$libpath"
    say "prebuilt binaries from $CONVIS_GPU_PREBUILT"
else
    say "building in $build"
    args=(-DCMAKE_BUILD_TYPE=Release -DCONVIS_NATIVE=OFF)
    [ -n "$cudnn_root" ] && args+=(-DCONVIS_CUDNN_ROOT="$cudnn_root")
    if ! cmake -S . -B "$build" "${args[@]}" >"$out/configure.log" 2>&1; then
        tail -20 "$out/configure.log"; say "configure failed"; exit 1
    fi
    grep "convis:" "$out/configure.log"
    if ! cmake --build "$build" -j "$(nproc)" --target test_gpu convis_gpu_bench convis >"$out/build.log" 2>&1; then
        grep -E "error|Error" "$out/build.log" | head -20; say "build failed"; exit 1
    fi
    bin="$build/bin"
fi
export LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---- tests ----------------------------------------------------------------------------------------
say "GPU tests"
timeout 300 "$bin/test_gpu" 2>&1 | tee "$out/test_gpu.log" | tail -25
test_rc=${PIPESTATUS[0]}
case $test_rc in
    0) tests="passed" ;;
    77) tests="skipped (no device)" ;;
    *) tests="FAILED (exit $test_rc)" ;;
esac
say "GPU tests: $tests"
cli="skipped (no convis program)"
if [ -x "$bin/convis" ]; then
    say "the convis program, --device gpu against --device cpu"
    timeout 300 bash tests/cli/check_cli_gpu.sh "$bin/convis" "$out/cli_gpu" 2>&1 | tee "$out/cli_gpu.log" | tail -12
    case ${PIPESTATUS[0]} in
        0) cli="passed" ;;
        77) cli="skipped (no device)" ;;
        *) cli="FAILED"; test_rc=1 ;;
    esac
    rm -rf "$out/cli_gpu"  # scratch: only the log comes back
fi
tests="$tests; CLI --device gpu: $cli"

# ---- timings --------------------------------------------------------------------------------------
say "convis GPU benchmarks"
# CONVIS_GPU_VERBOSE: each convolution's chosen algorithms and cuDNN's timings, into the log.
CONVIS_GPU_VERBOSE=${CONVIS_GPU_VERBOSE:-1} timeout 240 "$bin/convis_gpu_bench" --benchmark_out="$out/convis_gpu.json" --benchmark_out_format=json \
    --benchmark_min_time=1 2>&1 | tee "$out/convis_gpu.log" | grep -v "^\*\*\*"
bench_rc=${PIPESTATUS[0]}
torch_rc=77
if [ -n "$py" ] && [ "$bench_rc" -ne 77 ]; then
    say "PyTorch on the same GPU"
    timeout 240 "$py" bench/pytorch_gpu.py >"$out/pytorch_gpu.json" 2>"$out/pytorch_gpu.log"
    torch_rc=$?
    tail -8 "$out/pytorch_gpu.log"
fi

# ---- the table ------------------------------------------------------------------------------------
if [ -n "$py" ]; then
"$py" - "$out" "$bench_rc" "$torch_rc" "$tests" <<'PYEOF'
import json, sys, os
out, bench_rc, torch_rc, tests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
names = {"BM_GPU_ZFNet_Forward/1/real_time": "forward/1", "BM_GPU_ZFNet_Forward/128/real_time": "forward/128",
         "BM_GPU_ZFNet_Train/128/0/real_time": "train/128", "BM_GPU_ZFNet_Train/128/1/real_time": "train+sgd/128",
         "BM_GPU_ZFNet_Project/1/real_time": "project/1", "BM_GPU_ZFNet_Occlusion/64/real_time": "occlusion/64"}
conv = {}
if bench_rc == 0 and os.path.exists(f"{out}/convis_gpu.json"):
    for b in json.load(open(f"{out}/convis_gpu.json"))["benchmarks"]:
        if b["name"] in names:
            conv[names[b["name"]]] = b["real_time"] * {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1}[b["time_unit"]]
torch = {}
device = "?"
if torch_rc == 0:
    t = json.load(open(f"{out}/pytorch_gpu.json"))
    device = f'{t["device"]}, PyTorch {t["torch"]}, cuDNN {t["cudnn"]}'
    torch = {k: (v["seconds"], v["layout"]) for k, v in t["workloads"].items()}
print()
print(f"GPU tests: {tests}")
if not conv:
    print("timings: none (no device)" if bench_rc == 77 else f"timings: convis_gpu_bench failed (exit {bench_rc})")
    sys.exit(0)
print(f"device: {device}")
print(f"{'workload':<15} {'convis ms':>10} {'PyTorch ms':>11} {'layout':>14} {'convis/PyTorch':>15}")
for k in names.values():
    c = conv.get(k)
    p = torch.get(k)
    ratio = f"{c / p[0]:.2f}" if c and p else "-"
    print(f"{k:<15} {c * 1e3 if c else float('nan'):>10.3f} {p[0] * 1e3 if p else float('nan'):>11.3f} "
          f"{p[1] if p else '-':>14} {ratio:>15}")
print("(convis/PyTorch < 1: convis is faster; occlusion/64 is 529 positions per iteration)")
PYEOF
fi
say "done"
[ "$test_rc" -eq 0 ] || [ "$test_rc" -eq 77 ]
