#!/usr/bin/env bash
# The hardening checks CI runs after the tests, on a fresh Debian machine (installs clang 19):
#   1. every CPU test and the convis program built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (clang 19, -O1, no recovery: the first report aborts), run by ctest;
#   2. each libFuzzer target (same build) for FUZZ_SECONDS seconds from its seed corpus;
#   3. test_threads and test_train (its batch thread) built with ThreadSanitizer and run. OpenMP is off in that build: LLVM's libomp
#      is not annotated for ThreadSanitizer, which then reports its own barriers as races. The
#      threads under test are the caller's, each running a whole forward.
#
#   bash tests/sanitize.sh     (ASAN_BUILD_DIR=build-sanitize, TSAN_BUILD_DIR=build-tsan, FUZZ_SECONDS=30, JOBS=nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
convis_install_deps "${CONVIS_TEST_PACKAGES[@]}" "${CONVIS_SANITIZE_PACKAGES[@]}"
jobs=${JOBS:-$(nproc)}
asan=${ASAN_BUILD_DIR:-build-sanitize}
tsan=${TSAN_BUILD_DIR:-build-tsan}
export CC=clang-19 CXX=clang++-19
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCONVIS_GPU=OFF
        -DCONVIS_BUILD_BENCH=OFF)

echo "== AddressSanitizer + UndefinedBehaviorSanitizer =="
# The convis program with the ZFNets the command-line tests use and one residual network (resnet18):
# the same code as the full zoo, a fraction of its build.
cmake -S . -B "$asan" "${common[@]}" -DCONVIS_SANITIZE=address,undefined -DCONVIS_FUZZ=ON \
      "-DCONVIS_CLI_NETWORKS=zfnet;zfnet512;zfnet_pytorch;zfnet28;resnet18" -DCONVIS_TEST_ZOO=OFF
cmake --build "$asan" -j "$jobs"
# abort_on_error: a report ends the process with SIGABRT, never with an exit status (1, 2) that
# the command-line checks would take for the program's own answer to bad input.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=abort_on_error=1:print_stacktrace=1
# compile_fail.* check GCC's wording of the compile errors and install_consumer builds a package:
# neither runs convis code, and both run in the plain build of tests/run.sh.
(cd "$asan" && ctest --output-on-failure -j "$jobs" --timeout 1800 -E '^(compile_fail\.|install_consumer$)')

echo "== libFuzzer, ${FUZZ_SECONDS:-30} s per target =="
bash tests/fuzz/run.sh "$asan" "${FUZZ_SECONDS:-30}"

echo "== ThreadSanitizer =="
unset ASAN_OPTIONS UBSAN_OPTIONS
cmake -S . -B "$tsan" "${common[@]}" -DCONVIS_SANITIZE=thread -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON \
      -DCONVIS_BUILD_EXAMPLES=OFF
cmake --build "$tsan" -j "$jobs" --target test_threads test_train
export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1
"$tsan/bin/test_threads"
"$tsan/bin/test_train"   # the trainer prepares batches on a thread of its own
echo "sanitize.sh: all clean"
