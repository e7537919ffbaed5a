#!/usr/bin/env bash
# The main job, on a fresh Debian machine: installs what is missing, builds convis in Release,
# shows ZFNet's layer table, and runs a forward pass through the `convis` program on freshly
# initialised weights and a synthetic batch. Outputs land in $BUILD_DIR/demo/.
#   bash examples/demo.sh        (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
convis_install_deps
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --target convis -j "${JOBS:-$(nproc)}"
convis="$build/bin/convis"
out="$build/demo"
mkdir -p "$out"

echo
echo "== ZFNet (Zeiler & Fergus 2014, Fig. 3): layer table =="
"$convis" info --model zfnet

echo
echo "== A forward pass: paper initialisation (N(0, 0.01^2)), a synthetic batch of 2 images =="
"$convis" init --model zfnet --seed 1 --out "$out/zfnet_init.safetensors"
"$convis" make-input --batch 2 --seed 1 --out "$out/input.safetensors"
"$convis" forward --model zfnet --weights "$out/zfnet_init.safetensors" --input "$out/input.safetensors" \
    --out "$out/forward.safetensors" --layers conv1,pool1,norm1,conv5,pool5,fc8
echo
echo "Layer outputs and class probabilities: $out/forward.safetensors"
echo "(The weights are untrained, so every class sits near 1/1000. Load trained PyTorch weights with"
echo " examples/export_state_dict.py and --model zfnet-pytorch, or see the README.)"
