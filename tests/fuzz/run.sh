#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each, from a copy of their committed seed corpora
# (tests/fuzz/corpus/<target>/ is never written to). Exits non-zero when any target finds a crash, a
# leak, a timeout or an allocation past the limits, and prints the reproducer's path.
#
# usage: run.sh BUILD_DIR SECONDS [TARGET...]
#   BUILD_DIR  a build configured with -DCONVIS_FUZZ=ON (the targets are in BUILD_DIR/bin)
#   SECONDS    how long each target runs (-max_total_time)
#   TARGET     fuzz_safetensors, fuzz_idx, fuzz_image or fuzz_cli (default: all four, one after another)
# Environment: FUZZ_WORK, where the working corpora and reproducers go (default BUILD_DIR/fuzz-work).
set -uo pipefail

if [[ $# -lt 2 || ! $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
    exit 2
fi
build=$(realpath -- "$1")
seconds=$2
shift 2
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=(fuzz_safetensors fuzz_idx fuzz_image fuzz_cli); fi
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-$build/fuzz-work}

# The readers promise bounded memory: a hostile file must fail long before 2 GiB (the largest
# picture read_image accepts costs about 1 GiB). -timeout bounds one input, far above the few
# milliseconds a seed takes, so only a hang trips it.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25 -max_total_time="$seconds" -print_final_stats=1)

status=0
for t in "${targets[@]}"; do
    exe=$build/bin/$t
    if [[ ! -x $exe ]]; then
        echo "FAIL: $exe not found (configure with -DCONVIS_FUZZ=ON and build it)" >&2
        status=1
        continue
    fi
    corpus=$work/$t/corpus
    artifacts=$work/$t/artifacts
    rm -rf "${work:?}/$t"
    mkdir -p "$corpus" "$artifacts"
    cp "$here/corpus/$t/"* "$corpus/"
    dict=()
    if [[ -f $here/$t.dict ]]; then dict=(-dict="$here/$t.dict"); fi
    log=$work/$t/log.txt
    echo "== $t: $seconds s from $(ls "$corpus" | wc -l) seeds (log: $log)"
    OMP_NUM_THREADS=1 "$exe" "${limits[@]}" "${dict[@]}" -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)' "$log" | sed 's/^/   /'
    echo "   corpus: $(ls "$corpus" | wc -l) files"
    if [[ $rc -ne 0 ]] || ls "$artifacts"/* >/dev/null 2>&1; then
        echo "FAIL: $t exited with $rc" >&2
        grep -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer|Test unit written to' "$log" | head -5 >&2
        for f in "$artifacts"/*; do [[ -e $f ]] && echo "FAIL: reproducer: $f (rerun: $exe $f)" >&2; done
        status=1
    fi
done
exit $status
