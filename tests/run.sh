#!/usr/bin/env bash
# Builds and runs every convis test with ctest, on a fresh Debian machine: installs what is missing.
#   bash tests/run.sh            (BUILD_DIR=build-tests by default; JOBS=nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
convis_install_deps "${CONVIS_TEST_PACKAGES[@]}"
build=${BUILD_DIR:-build-tests}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 1200
