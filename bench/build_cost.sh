#!/usr/bin/env bash
# Build cost of ZFNet on the CPU policy: compiles bench/zfnet_instance.cpp (forward, backward and
# every layer's deconvnet projection, instantiated in one translation unit) with the Release
# build's flags under /usr/bin/time -v and prints wall time and peak memory.
# Usage: bash bench/build_cost.sh [compiler]   (default: c++)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cxx=${1:-c++}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v "$cxx" -O3 -DNDEBUG -march=native -fopenmp -std=gnu++20 -I"$here/include" -isystem /usr/include/eigen3 \
    -c "$here/bench/zfnet_instance.cpp" -o "$out/zfnet_instance.o" 2>"$out/time.txt"
wall=$(grep "Elapsed (wall clock)" "$out/time.txt" | awk '{print $NF}')
rss=$(grep "Maximum resident set size" "$out/time.txt" | awk '{print $NF}')
echo "$("$cxx" --version | head -1): bench/zfnet_instance.cpp compiled in $wall (m:ss), peak memory $((rss / 1024)) MiB"
