#!/usr/bin/env bash
# The convis program with --device gpu against --device cpu: forward, project, occlusion and a
# short training run on the same files give the same numbers (relative error 1e-4; the training
# run's losses 1e-3, its weights more loosely, see below). Exits 77 (skipped) where the program has no GPU
# policy or the machine no device.
#
# usage: check_cli_gpu.sh <path to convis> <scratch directory>
# CONVIS_GPU_CHECK_DEVICE=cpu runs the "GPU" side on the CPU: the script's own dry run, where no
# GPU is.
set -euo pipefail
gpu=${CONVIS_GPU_CHECK_DEVICE:-gpu}
device_of() { if [[ $1 == gpu ]]; then echo "$gpu"; else echo cpu; fi; }  # the side's --device
convis=$(realpath -- "$1")
here=$(cd "$(dirname "$0")" && pwd)
scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
failures=0
compare() {  # compare <what> <tol> <a> <b> [--only names]
    local what=$1 tol=$2 a=$3 b=$4
    shift 4
    if python3 "$here/compare_safetensors.py" "$a" "$b" --tol "$tol" "$@" >cmp.txt; then
        echo "ok: $what (GPU = CPU): $(tr '\n' ';' <cmp.txt)"
    else
        echo "FAIL: $what: $(tr '\n' ';' <cmp.txt)" >&2
        failures=$((failures + 1))
    fi
}

"$convis" init --model zfnet28 --classes 10 --seed 4 --scheme kaiming --out w.safetensors >/dev/null
"$convis" make-input --out x.safetensors --batch 6 --seed 5 --size 28 --channels 1 >/dev/null
"$convis" make-input --out x1.safetensors --batch 1 --seed 6 --size 28 --channels 1 >/dev/null
if ! "$convis" forward --device $gpu --model zfnet28 --classes 10 --weights w.safetensors --input x.safetensors \
        --layers relu5,fc8 --out y_gpu.safetensors >out.txt 2>err.txt; then
    if grep -q "no CUDA device\|without the GPU policy" err.txt; then
        echo "skipped: $(cat err.txt)"
        exit 77
    fi
    echo "FAIL: forward --device gpu: $(cat err.txt)" >&2
    exit 1
fi
"$convis" forward --device cpu --model zfnet28 --classes 10 --weights w.safetensors --input x.safetensors \
    --layers relu5,fc8 --out y_cpu.safetensors >/dev/null
compare "forward" 1e-4 y_gpu.safetensors y_cpu.safetensors

for mode in deconvnet guided gradient; do
    for side in cpu gpu; do
        "$convis" project --device $(device_of $side) --model zfnet28 --classes 10 --weights w.safetensors --input x.safetensors \
            --layer pool5 --channel 3 --strongest --mode $mode --out p_$side.safetensors >/dev/null
    done
    compare "project ($mode)" 1e-4 p_gpu.safetensors p_cpu.safetensors
done

for side in cpu gpu; do
    "$convis" occlusion --device $(device_of $side) --model zfnet28 --classes 10 --weights w.safetensors --input x1.safetensors \
        --label 4 --size 6 --stride 3 --out occ_$side.safetensors >/dev/null
done
compare "occlusion" 1e-4 occ_gpu.safetensors occ_cpu.safetensors --only activation,probability

for side in cpu gpu; do
    "$convis" invariance --device $(device_of $side) --model zfnet28 --classes 10 --weights w.safetensors --input x.safetensors \
        --label 2 --transform rotate --out inv_$side.safetensors >/dev/null
done
compare "invariance (rotate)" 1e-4 inv_gpu.safetensors inv_cpu.safetensors

source "$here/fake_fmnist.sh"
make_fake_fmnist fmnist
for side in cpu gpu; do
    "$convis" train --device $(device_of $side) --model zfnet28 --classes 10 --data fashion-mnist --epochs 2 --batch 16 --quiet \
        --out trained_$side >/dev/null
done
# Twelve steps let rounding differences grow (a flipped pool switch or ReLU): the epochs' losses
# are compared closely, the weights coarsely (on an H200: losses within 1e-4, weights within 3.2e-3
# and small biases within 2e-2 of each tensor's largest value).
if python3 - trained_cpu/metrics.json trained_gpu/metrics.json <<'PY'
import json, sys
a, b = (json.load(open(f))["epochs"] for f in sys.argv[1:3])
worst = max(abs(x["train_loss"] - y["train_loss"]) / abs(x["train_loss"]) for x, y in zip(a, b))
print(f"train loss per epoch: relative difference {worst:.2e}")
sys.exit(0 if len(a) == len(b) == 2 and worst <= 1e-3 else 1)
PY
then echo "ok: train, 12 steps: the same losses"; else echo "FAIL: train: losses differ" >&2; failures=$((failures + 1)); fi
compare "train, 12 steps (weights)" 5e-2 trained_gpu/model.safetensors trained_cpu/model.safetensors
"$convis" train --device $gpu --model zfnet28 --classes 10 --data fashion-mnist --epochs 3 --batch 16 --quiet \
    --resume --out trained_gpu >/dev/null
grep -q '"epoch": 3' trained_gpu/metrics.json && echo "ok: train --device $gpu --resume continues to epoch 3" ||
    { echo "FAIL: train --device $gpu --resume" >&2; failures=$((failures + 1)); }

[[ $failures -eq 0 ]] && echo "all GPU CLI checks passed" || { echo "$failures GPU CLI check(s) failed" >&2; exit 1; }
