#!/usr/bin/env bash
# Checks examples/custom_cli.cpp: a user's own Sequential registered through convis::cli::main gets
# the subcommands — info, train, top9 and occlusion run on it, with a class count of its choosing.
#
# usage: check_custom_cli.sh <path to tiny_convis> <scratch directory>
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 <path to tiny_convis> <scratch directory>" >&2
    exit 2
fi
program=$(realpath -- "$1")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$2" && mkdir -p "$2" && cd "$2"

failures=0
check() {  # check <what> <command...>: runs the command, which must succeed
    local what=$1
    shift
    if "$@" >out.txt 2>err.txt; then
        echo "ok: $what"
    else
        echo "FAIL: $what: exit status $?: $(tail -1 err.txt)" >&2
        failures=$((failures + 1))
    fi
}
expect() {  # expect <what> <condition...>
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}

source "$here/fake_fmnist.sh"
make_fake_fmnist fmnist

check "info --classes 7" "$program" info --model tiny --classes 7
expect "info names the type and its 7 outputs" grep -qE '^ +7  fc +Linear +7 +10983 ' out.txt
expect "info counts the parameters" grep -q '^total parameters: 16039 ' out.txt

check "train" "$program" train --model tiny --classes 10 --data fashion-mnist --epochs 1 --batch 16 --quiet --out run
expect "train writes the model" test -s run/model.safetensors

check "top9" "$program" top9 --model tiny --classes 10 --weights run/model.safetensors \
    --idx fmnist/t10k-images-idx3-ubyte.gz --layer conv2 --channels 0,3 --k 4 --out run/top9
expect "top9 writes the grid and the index" test -s run/top9/conv2.png -a -s run/top9/conv2_c3.png
expect "top9's index has 2 channels x 4 pictures" test "$(grep -c '"rank"' run/top9/index.json)" -eq 8

check "occlusion" "$program" occlusion --model tiny --classes 10 --weights run/model.safetensors \
    --input fmnist/t10k-images-idx3-ubyte.gz --index 2 --labels fmnist/t10k-labels-idx1-ubyte.gz \
    --size 8 --stride 4 --out run/occlusion
expect "occlusion follows the last conv block (relu2)" grep -q '"layer": "relu2"' run/occlusion/occlusion.json
expect "occlusion writes its maps" test -s run/occlusion/probability.png -a -s run/occlusion/projection.png

if "$program" forward --model zfnet --weights run/model.safetensors --input x.safetensors --out y.safetensors 2>err.txt; then
    echo "FAIL: --model zfnet is not registered in this program, yet it ran" >&2
    failures=$((failures + 1))
else
    expect "only the registered network is offered" grep -q 'tiny' err.txt
fi

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all custom-network CLI checks passed"
