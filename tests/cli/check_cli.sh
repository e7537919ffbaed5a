#!/usr/bin/env bash
# Checks the convis command-line program end to end: the layer tables, a forward pass on freshly
# initialised weights and a synthetic input, and every error path (exit status 1 for a bad file,
# shape, name or class count; 2 for a usage error; always exactly one line on stderr).
#
# usage: check_cli.sh <path to convis> <scratch directory>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <path to convis> <scratch directory>" >&2
    exit 2
fi
convis=$(realpath -- "$1")
here=$(cd "$(dirname "$0")" && pwd)
scratch=$2
if [[ ! -x $convis ]]; then
    echo "FAIL: $convis is not an executable" >&2
    exit 1
fi
rm -rf "$scratch"
mkdir -p "$scratch"
cd "$scratch"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }
die() {
    echo "FAIL: $* (the remaining checks need it)" >&2
    exit 1
}

# run <args...>: runs convis, keeping its exit status in $rc, stdout in out.txt, stderr in err.txt.
run() {
    set +e
    "$convis" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
}

# expect_fail <status> <what> <pattern>... -- <args...>: convis must exit with <status>, write
# exactly one line to stderr starting with "convis: ", and that line must contain every pattern.
expect_fail() {
    local status=$1 what=$2
    shift 2
    local patterns=()
    while [[ $1 != -- ]]; do
        patterns+=("$1")
        shift
    done
    shift
    run "$@"
    local ok=1
    if [[ $rc -ne $status ]]; then
        fail "$what: exit status $rc, expected $status (convis $*)"
        ok=0
    fi
    local lines
    lines=$(wc -l <err.txt)
    # Exactly one line: one newline, and nothing after it.
    if [[ $lines -ne 1 || -n $(tail -c 1 err.txt) ]]; then
        fail "$what: stderr has $lines lines, expected exactly 1:"
        sed 's/^/    /' err.txt >&2
        ok=0
    fi
    if ! grep -q '^convis: ' err.txt; then
        fail "$what: stderr does not start with 'convis: ': $(head -c 300 err.txt)"
        ok=0
    fi
    local p
    for p in "${patterns[@]}"; do
        if ! grep -qF -- "$p" err.txt; then
            fail "$what: message does not contain '$p': $(head -c 500 err.txt)"
            ok=0
        fi
    done
    if [[ $ok -eq 1 ]]; then pass "$what (exit $rc): $(cat err.txt)"; fi
}

# ---- info: the layer table of each model ---------------------------------------------------------
check_info() {
    local model=$1 rows=$2 total=$3
    run info --model "$model"
    if [[ $rc -ne 0 ]]; then
        fail "info --model $model: exit status $rc: $(cat err.txt)"
        return
    fi
    local n
    n=$(grep -cE '^ *[0-9]+  ' out.txt || true)
    [[ $n -eq $rows ]] || fail "info --model $model: $n layer rows, expected $rows"
    grep -qE "^total parameters: $total( |\$)" out.txt || fail "info --model $model: no line 'total parameters: $total'"
    [[ -s err.txt ]] && fail "info --model $model: wrote to stderr: $(cat err.txt)"
    pass "info --model $model: $n rows, $total parameters"
}
check_info zfnet 23 62357608
check_info zfnet512 23 107627624
check_info zfnet-pytorch 21 386548840

run info --model zfnet
grep -qE '^ +0  conv1 +Conv2d +96x110x110 +14208 +7 +2 +-1$' out.txt || fail "info: conv1 row is wrong: $(grep conv1 out.txt)"
grep -qE '^ +14  pool5 +MaxPool2d +256x6x6 +0 +171 +32 +-49$' out.txt || fail "info: pool5 row is wrong: $(grep pool5 out.txt)"
grep -qE '^ +22  fc8 +Linear +1000 +4097000 +global' out.txt || fail "info: fc8 row is wrong: $(grep fc8 out.txt)"
run info --model zfnet --classes 10
grep -qE '^ +22  fc8 +Linear +10 +40970 +global' out.txt || fail "info --classes 10: fc8 row is wrong: $(grep fc8 out.txt)"
grep -q '^total parameters: 58301578' out.txt || fail "info --classes 10: wrong total: $(grep total out.txt)"
run info --model zfnet --classes 37  # any class count: the last layer's size is a run-time value
[[ $rc -eq 0 ]] || fail "info --classes 37: exit status $rc: $(cat err.txt)"
grep -qE '^ +22  fc8 +Linear +37 +151589 +global' out.txt || fail "info --classes 37: fc8 row is wrong: $(grep fc8 out.txt)"
grep -q '^total parameters: 58412197' out.txt || fail "info --classes 37: wrong total: $(grep total out.txt)"
grep -q 'ZFNet<37>' out.txt || fail "info --classes 37: the type is not named ZFNet<37>: $(head -1 out.txt)"

run --help
[[ $rc -eq 0 ]] || fail "--help: exit status $rc"
grep -q 'forward' out.txt || fail "--help does not list the forward subcommand"
run forward --help
[[ $rc -eq 0 && ! -s err.txt ]] || fail "forward --help: exit status $rc, stderr: $(cat err.txt)"
grep -q -- '--layers' out.txt || fail "forward --help does not describe --layers"

# ---- init + make-input + forward ---------------------------------------------------------------
run init --model zfnet --classes 10 --out w.safetensors --seed 1
[[ $rc -eq 0 && -s w.safetensors ]] || die "init: exit status $rc: $(cat err.txt)"
# 58,301,578 float32 parameters plus the header.
size=$(wc -c <w.safetensors)
[[ $size -gt 233206312 && $size -lt 233216312 ]] || fail "init: weights file is $size bytes"
run make-input --out x.safetensors --batch 2 --seed 3
[[ $rc -eq 0 && -s x.safetensors ]] || die "make-input: exit status $rc: $(cat err.txt)"
head -c 200 x.safetensors | grep -aqF '"input":{"dtype":"F32","shape":[2,3,224,224]' ||
    fail "make-input: header does not hold input [2,3,224,224] F32"
run make-input --out x_again.safetensors --batch 2 --seed 3
cmp -s x.safetensors x_again.safetensors || fail "make-input is not deterministic for a fixed seed"

run forward --model zfnet --classes 10 --weights w.safetensors --input x.safetensors --out y.safetensors \
    --layers conv1,pool5,fc8
if [[ $rc -ne 0 ]]; then
    fail "forward: exit status $rc: $(cat err.txt)"
else
    header=$(head -c 1000 y.safetensors | tr -d '\000')
    for entry in '"conv1":{"dtype":"F32","shape":[2,96,110,110]' '"pool5":{"dtype":"F32","shape":[2,256,6,6]' \
        '"fc8":{"dtype":"F32","shape":[2,10]' '"prob":{"dtype":"F32","shape":[2,10]'; do
        grep -qF -- "$entry" <<<"$header" || fail "forward: output header lacks $entry"
    done
    # Data: (2·96·110·110 + 2·256·6·6 + 2·10 + 2·10) float32 after the 8-byte length and the header.
    header_len=$(od -An -t u8 -N 8 y.safetensors | tr -d ' ')  # little-endian u64, as on this host
    size=$(wc -c <y.safetensors)
    expected=$((8 + header_len + 4 * (2 * 96 * 110 * 110 + 2 * 256 * 6 * 6 + 2 * 10 + 2 * 10)))
    [[ $size -eq $expected ]] || fail "forward: output is $size bytes, expected $expected"
    [[ $(grep -c '^sample [01] top-5:' out.txt) -eq 2 ]] || fail "forward: no top-5 line per sample: $(cat out.txt)"
    [[ -s err.txt ]] && fail "forward: wrote to stderr: $(cat err.txt)"
    pass "forward: $(head -1 out.txt)"
fi

# --threads, before or after the subcommand, changes nothing but the speed: the same bytes.
run forward --threads 1 --model zfnet --classes 10 --weights w.safetensors --input x.safetensors \
    --out y1.safetensors --layers conv1,pool5,fc8
if [[ $rc -ne 0 ]]; then
    fail "forward --threads 1: exit status $rc: $(cat err.txt)"
elif ! cmp -s y.safetensors y1.safetensors; then
    fail "forward --threads 1 wrote other numbers than the default thread count"
else
    pass "forward --threads 1: the same output, byte for byte"
fi
run --threads 3 info --model zfnet
[[ $rc -eq 0 ]] || fail "--threads before the subcommand: exit status $rc: $(cat err.txt)"

# ---- error paths ------------------------------------------------------------------------------
fwd=(forward --model zfnet --classes 10 --out y2.safetensors)

expect_fail 1 "missing weights file" missing.safetensors -- \
    "${fwd[@]}" --weights missing.safetensors --input x.safetensors
expect_fail 1 "missing input file" no_input.safetensors -- \
    "${fwd[@]}" --weights w.safetensors --input no_input.safetensors
expect_fail 1 "zfnet weights into zfnet512" w.safetensors conv3.weight '[384,256,3,3]' '[512,256,3,3]' -- \
    forward --model zfnet512 --classes 10 --weights w.safetensors --input x.safetensors --out y2.safetensors

run make-input --out small.safetensors --size 100
expect_fail 1 "input of the wrong shape" small.safetensors '[1,3,100,100]' '3,224,224' -- \
    "${fwd[@]}" --weights w.safetensors --input small.safetensors
expect_fail 1 "input file without 'input'" w.safetensors input -- \
    "${fwd[@]}" --weights w.safetensors --input w.safetensors
expect_fail 1 "unknown layer name" conv9 conv1 pool5 fc8 -- \
    "${fwd[@]}" --weights w.safetensors --input x.safetensors --layers conv1,conv9
expect_fail 1 "--classes that the weights do not have" w.safetensors fc8.weight '[10,4096]' '[11,4096]' -- \
    forward --model zfnet --classes 11 --weights w.safetensors --input x.safetensors --out y2.safetensors
expect_fail 2 "zero --classes" --classes "1 to 1000000" -- info --model zfnet --classes 0
expect_fail 2 "negative --classes" --classes -- info --model zfnet --classes -3

head -c 100000000 w.safetensors >truncated.safetensors
expect_fail 1 "truncated weights (data)" truncated.safetensors -- \
    "${fwd[@]}" --weights truncated.safetensors --input x.safetensors
head -c 500 w.safetensors >truncated_header.safetensors
expect_fail 1 "truncated weights (header)" truncated_header.safetensors -- \
    "${fwd[@]}" --weights truncated_header.safetensors --input x.safetensors
printf 'abc' >tiny.safetensors
expect_fail 1 "three-byte weights file" tiny.safetensors -- \
    "${fwd[@]}" --weights tiny.safetensors --input x.safetensors
expect_fail 1 "output directory missing" no/such/dir -- \
    forward --model zfnet --classes 10 --weights w.safetensors --input x.safetensors --out no/such/dir/y.safetensors
expect_fail 1 "make-input --batch 0" batch -- make-input --out z.safetensors --batch 0

expect_fail 2 "unknown option" --bogus -- info --model zfnet --bogus
expect_fail 2 "bad --model" googlenet -- info --model googlenet
expect_fail 2 "bad --model in forward" googlenet -- \
    forward --model googlenet --weights w.safetensors --input x.safetensors --out y2.safetensors
expect_fail 2 "non-numeric --classes" ten -- info --model zfnet --classes ten
expect_fail 2 "zero --threads" --threads "1 to 4096" -- info --model zfnet --threads 0
expect_fail 2 "missing --model" --model -- info
expect_fail 2 "missing --weights" --weights -- forward --model zfnet --input x.safetensors --out y2.safetensors
expect_fail 2 "bad --scheme" xavier -- init --model zfnet --out w2.safetensors --scheme xavier
expect_fail 2 "negative --seed" -1 -- make-input --out z.safetensors --seed -1
expect_fail 2 "unknown subcommand" frobnicate -- frobnicate
expect_fail 2 "no subcommand" subcommand --

# project: the deconvnet from a recorded trace, to safetensors and to PNG.
run project --model zfnet --classes 10 --weights w.safetensors --input x.safetensors --layer pool5 --channel 3 \
    --strongest --out p.safetensors
if [[ $rc -eq 0 ]] && grep -q '"projection":{"dtype":"F32","shape":\[2,3,224,224\]' p.safetensors; then
    pass "project --strongest writes projection [2,3,224,224]"
else
    fail "project --strongest: exit $rc, $(cat err.txt)"
fi
grep -q 'image 1: strongest at' out.txt || fail "project does not report the strongest positions: $(cat out.txt)"
run project --model zfnet --classes 10 --weights w.safetensors --input x.safetensors --layer conv2 --channel 1 \
    --position 5,7 --mode guided --out p.png
if [[ $rc -eq 0 ]] && [[ "$(head -c 8 p.png | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; then
    pass "project --position --mode guided writes a PNG"
else
    fail "project to PNG: exit $rc, $(cat err.txt)"
fi
expect_fail 1 "project: unknown layer" pool9 pool5 -- project --model zfnet --classes 10 --weights w.safetensors \
    --input x.safetensors --layer pool9 --channel 0 --strongest --out q.png
expect_fail 1 "project: channel out of range" 300 256 -- project --model zfnet --classes 10 --weights w.safetensors \
    --input x.safetensors --layer pool5 --channel 300 --strongest --out q.png
expect_fail 1 "project: position out of range" '(13, 0)' -- project --model zfnet --classes 10 \
    --weights w.safetensors --input x.safetensors --layer pool5 --channel 0 --position 13,0 --out q.png
expect_fail 2 "project: no selection" --strongest --position -- project --model zfnet --classes 10 \
    --weights w.safetensors --input x.safetensors --layer pool5 --channel 0 --out q.png
expect_fail 2 "project: bad mode" saliency -- project --model zfnet --classes 10 --weights w.safetensors \
    --input x.safetensors --layer pool5 --channel 0 --strongest --mode saliency --out q.png
[[ ! -e q.png ]] || fail "a failed projection left q.png"

# top9: a folder of pictures (the PNGs project wrote, scaled and cropped to 224) with ZFNet, and
# an IDX file (made here, gzip-compressed) with the 28×28 ZFNet.
mkdir -p pics/a pics/b
cp p.png pics/a/one.png
run project --model zfnet --classes 10 --weights w.safetensors --input x.safetensors --layer conv1 --channel 2 \
    --strongest --out pics/b/two.png
run top9 --model zfnet --classes 10 --weights w.safetensors --images pics --layer pool1 --channels 0,5 --k 2 --out t9
if [[ $rc -eq 0 && -s t9/pool1.png && -s t9/pool1_c5.png ]] && grep -q '"channel": 5' t9/index.json &&
    [[ $(grep -c '"rank"' t9/index.json) -eq 4 ]]; then
    pass "top9 over a folder writes grids and an index of 2 channels × 2 pictures"
else
    fail "top9 --images: exit $rc, $(cat err.txt), $(ls t9 2>&1)"
fi
{
    printf '\x00\x00\x08\x03\x00\x00\x00\x0c\x00\x00\x00\x1c\x00\x00\x00\x1c'
    head -c $((12 * 28 * 28)) /dev/urandom
} | gzip >small-images-idx3-ubyte.gz
# A class count no data set of the zoo has: initialise, run forward, read the probabilities' shape.
run init --model zfnet28 --classes 3 --seed 2 --out z28c3.safetensors
[[ $rc -eq 0 ]] || fail "init zfnet28 --classes 3: exit status $rc: $(cat err.txt)"
run make-input --out x28.safetensors --size 28 --channels 1 --batch 2
run forward --model zfnet28 --classes 3 --weights z28c3.safetensors --input x28.safetensors --out y28c3.safetensors
if [[ $rc -ne 0 ]]; then
    fail "forward zfnet28 --classes 3: exit status $rc: $(cat err.txt)"
elif ! grep -q 'through ZFNet28<3>; wrote y28c3.safetensors: fc8 \[2,3\], prob \[2,3\]' out.txt; then
    fail "forward zfnet28 --classes 3: unexpected output: $(head -1 out.txt)"
else
    pass "forward zfnet28 --classes 3"
fi
# torchvision's networks: the layer table carries torchvision's names and counts, a ResNet-18 runs
# forward and projects from a residual block (the signal down both branches).
# (The sanitizer build carries only resnet18 of them: CONVIS_CLI_NETWORKS in tests/sanitize.sh.)
run info --model resnet50
if [[ $rc -eq 2 ]] && grep -q "resnet50" err.txt && ! "$convis" info --model vgg16-bn >/dev/null 2>&1; then
    echo "skip: info resnet50 and vgg16-bn (not in this build's CONVIS_CLI_NETWORKS)"
else
    if [[ $rc -eq 0 ]] && grep -qE 'layer4.2 +Residual' out.txt && grep -q '^total parameters: 25610152' out.txt; then
        pass "info resnet50"
    else
        fail "info resnet50: exit status $rc: $(grep -E 'layer4.2|total' out.txt) $(cat err.txt)"
    fi
    run info --model vgg16-bn --classes 5
    if [[ $rc -eq 0 ]] && grep -qE 'features.41 +BatchNorm2d' out.txt; then pass "info vgg16-bn"; else fail "info vgg16-bn: $(cat err.txt)"; fi
fi
run init --model resnet18 --classes 4 --seed 2 --scheme kaiming --out r18.safetensors
[[ $rc -eq 0 ]] || fail "init resnet18: exit status $rc: $(cat err.txt)"
run make-input --out x224.safetensors --batch 1 --seed 5
run forward --model resnet18 --classes 4 --weights r18.safetensors --input x224.safetensors --out r18y.safetensors
if [[ $rc -eq 0 ]] && grep -q 'through ResNet18<4>; wrote r18y.safetensors: fc \[1,4\]' out.txt; then
    pass "forward resnet18 --classes 4"
else
    fail "forward resnet18 --classes 4: exit status $rc: $(head -1 out.txt) $(cat err.txt)"
fi
run project --model resnet18 --classes 4 --weights r18.safetensors --input x224.safetensors --layer layer3.1 \
    --channel 5 --strongest --out r18p.safetensors
if [[ $rc -eq 0 ]] && grep -q '"projection":{"dtype":"F32","shape":\[1,3,224,224\]' r18p.safetensors; then
    pass "project resnet18 from layer3.1"
else
    fail "project resnet18 layer3.1: exit status $rc: $(cat err.txt)"
fi
run init --model zfnet28 --classes 10 --seed 2 --out z28.safetensors
run top9 --model zfnet28 --classes 10 --weights z28.safetensors --idx small-images-idx3-ubyte.gz --layer conv3 \
    --random 3 --seed 4 --out t28
if [[ $rc -eq 0 && -s t28/conv3.png ]] && [[ $(grep -c '"rank"' t28/index.json) -eq 27 ]] &&
    grep -q 'small-images-idx3-ubyte.gz#' t28/index.json; then
    pass "top9 over an IDX file: 3 random channels × 9 pictures"
else
    fail "top9 --idx: exit $rc, $(cat err.txt)"
fi
expect_fail 2 "top9: no data" --images --idx -- top9 --model zfnet28 --classes 10 --weights z28.safetensors \
    --layer conv1 --out t_bad
expect_fail 2 "top9: both data options" excludes -- top9 --model zfnet28 --classes 10 --weights z28.safetensors \
    --layer conv1 --images pics --idx small-images-idx3-ubyte.gz --out t_bad
expect_fail 1 "top9: channel out of range" 'channel 64' conv5 -- top9 --model zfnet28 --classes 10 \
    --weights z28.safetensors --idx small-images-idx3-ubyte.gz --layer conv5 --channels 1,64 --out t_bad
expect_fail 1 "top9: bad channel list" '--channels' -- top9 --model zfnet28 --classes 10 \
    --weights z28.safetensors --idx small-images-idx3-ubyte.gz --layer conv5 --channels 1,x --out t_bad
expect_fail 1 "top9: missing folder" nowhere -- top9 --model zfnet28 --classes 10 --weights z28.safetensors \
    --images nowhere --layer conv1 --out t_bad
head -c 100 small-images-idx3-ubyte.gz >cut.idx.gz
expect_fail 1 "top9: truncated IDX" cut.idx.gz -- top9 --model zfnet28 --classes 10 --weights z28.safetensors \
    --idx cut.idx.gz --layer conv1 --out t_bad
expect_fail 2 "top9: k out of range" '--k' -- top9 --model zfnet28 --classes 10 \
    --weights z28.safetensors --idx small-images-idx3-ubyte.gz --layer conv1 --k 0 --out t_bad
[[ ! -e t_bad ]] || fail "a failed top9 left its output folder"

# train, forward and evolution on a small Fashion-MNIST look-alike (random pixels, labels 0..9)
# made here and found through CONVIS_FASHION_MNIST, so this needs no data package.
source "$here/fake_fmnist.sh"
make_fake_fmnist fmnist
run train --model zfnet28 --classes 10 --data fashion-mnist --epochs 2 --batch 16 --snapshots 1,2 --out trained
if [[ $rc -eq 0 && -s trained/model.safetensors && -s trained/snapshots/epoch-2.safetensors ]] &&
    grep -q '"test_accuracy"' trained/metrics.json && grep -q 'preprocess.mean' trained/model.safetensors &&
    grep -q 'epoch 2/2' err.txt; then
    pass "train writes the model, metrics, snapshots and shows progress"
else
    fail "train: exit $rc, $(tail -c 400 err.txt)"
fi
run train --model zfnet28 --classes 10 --data fashion-mnist --epochs 3 --batch 16 --out trained --resume --quiet
if [[ $rc -eq 0 ]] && grep -q 'after 3 epochs' out.txt && [[ $(grep -c '"epoch"' trained/metrics.json) -eq 3 ]]; then
    pass "train --resume continues from the checkpoint to epoch 3"
else
    fail "train --resume: exit $rc, $(cat out.txt err.txt)"
fi
run make-input --batch 2 --size 28 --channels 1 --out x28.safetensors
run forward --model zfnet28 --classes 10 --weights trained/model.safetensors --input x28.safetensors --out y28.safetensors
if [[ $rc -eq 0 ]] && grep -q '"prob"' y28.safetensors; then
    pass "forward runs the trained zfnet28"
else
    fail "forward zfnet28: exit $rc, $(cat err.txt)"
fi
run project --model zfnet28 --classes 10 --weights trained/model.safetensors --input pics/b/two.png --layer conv5 \
    --channel 1 --strongest --out p28.png
if [[ $rc -eq 0 && -s p28.png ]]; then
    pass "project fits a 224x224 colour picture to zfnet28's 28x28 grey input"
else
    fail "project with a picture of another size: exit $rc, $(cat err.txt)"
fi
run evolution --model zfnet28 --classes 10 --snapshots trained --data fashion-mnist --layers conv1,conv5 --per-layer 3 \
    --out evo
if [[ $rc -eq 0 && -s evo/evolution_conv1.png && -s evo/evolution_conv5.png ]] && grep -q '"epoch": 2' evo/evolution.json; then
    pass "evolution writes a grid per layer"
else
    fail "evolution: exit $rc, $(cat err.txt)"
fi

# The paper's analyses on the trained model, into one run folder, then the report over it.
mkdir -p run
cp -r trained run/train
run top9 --model zfnet28 --classes 10 --weights trained/model.safetensors --idx fmnist/t10k-images-idx3-ubyte.gz \
    --layer conv2 --random 2 --seed 1 --out run/top9/conv2
[[ $rc -eq 0 ]] || fail "top9 for the report: exit $rc, $(cat err.txt)"
cp -r evo run/evolution
test_images=fmnist/t10k-images-idx3-ubyte.gz
test_labels=fmnist/t10k-labels-idx1-ubyte.gz
run occlusion --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 3 \
    --labels $test_labels --size 6 --stride 4 --out run/occlusion/three
if [[ $rc -eq 0 ]] && grep -q '"rows": 6' run/occlusion/three/occlusion.json && grep -q '"label": 3' run/occlusion/three/occlusion.json &&
    [[ -s run/occlusion/three/activation.png && -s run/occlusion/three/label.png && -s run/occlusion/three/projection.png ]]; then
    pass "occlusion writes the maps, the projection and occlusion.json"
else
    fail "occlusion: exit $rc, $(cat err.txt)"
fi
run occlusion --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 3 \
    --label 3 --size 6 --stride 4 --layer conv5 --out occ.safetensors
if [[ $rc -eq 0 ]] && grep -q '"activation":{"dtype":"F32","shape":\[6,6\]' occ.safetensors &&
    grep -q '"label":{"dtype":"I64","shape":\[6,6\]' occ.safetensors && grep -q '"channel"' occ.safetensors; then
    pass "occlusion writes activation, probability, label and channel to safetensors"
else
    fail "occlusion to safetensors: exit $rc, $(cat err.txt) $(head -c 300 occ.safetensors)"
fi
run invariance --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0,1,2 \
    --labels $test_labels --transform rotate --values 0,90,180 --out run/invariance/rotate
if [[ $rc -eq 0 && -s run/invariance/rotate/probability.svg && -s run/invariance/rotate/transformed.png ]] &&
    [[ $(wc -l <run/invariance/rotate/invariance.csv) -eq 10 ]]; then
    pass "invariance writes curves, CSV and the transformed pictures"
else
    fail "invariance: exit $rc, $(cat err.txt)"
fi
run invariance --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0 \
    --label 0 --transform translate --values=-2,0,2 --layers conv1,relu7 --out inv.safetensors
if [[ $rc -eq 0 ]] && grep -q '"distance.conv1":{"dtype":"F32","shape":\[1,3\]' inv.safetensors &&
    grep -q '"distance.relu7"' inv.safetensors && grep -q '"probability"' inv.safetensors; then
    pass "invariance writes distance.<layer> and probability to safetensors"
else
    fail "invariance to safetensors: exit $rc, $(cat err.txt) $(head -c 300 inv.safetensors)"
fi
mkdir -p run/correspondence
run correspondence --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images \
    --index 1,11,21 --boxes "2,8,6,12;2,8,6,12;2,8,6,12" --random 3 --seed 2 --part top --out run/correspondence/top.json
if [[ $rc -eq 0 && -s run/correspondence/top.png ]] && grep -q '"pool5"' run/correspondence/top.json &&
    grep -q '"random"' run/correspondence/top.json; then
    pass "correspondence writes the table's numbers and the masked pictures"
else
    fail "correspondence: exit $rc, $(cat err.txt)"
fi
for method in gradcam integrated-gradients; do
    run attribute --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0,3 \
        --method $method --steps 8 --out run/attribution/$method
    if [[ $rc -eq 0 && -s run/attribution/$method/overlay_1.png ]] && grep -q "\"method\": \"$method\"" run/attribution/$method/attribute.json; then
        pass "attribute --method $method writes the overlays and attribute.json"
    else
        fail "attribute --method $method: exit $rc, $(cat err.txt)"
    fi
done
grep -q '"attribution":{"dtype":"F32","shape":\[2,28,28\]' run/attribution/gradcam/attribution.safetensors &&
    grep -q '"attribution":{"dtype":"F32","shape":\[2,1,28,28\]' run/attribution/integrated-gradients/attribution.safetensors &&
    grep -q '"target":{"dtype":"I64","shape":\[2\]' run/attribution/gradcam/attribution.safetensors &&
    pass "attribution.safetensors holds attribution [N,H,W] (CAM) or [N,C,H,W] (gradients) and target" ||
    fail "attribution.safetensors: $(head -c 300 run/attribution/gradcam/attribution.safetensors)"
run attribute --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0,3 \
    --method smoothgrad --base integrated-gradients --steps 4 --samples 3 --noise 0.1 --target 5 --out run/attribution/smoothgrad
if [[ $rc -eq 0 ]] && grep -q '"base": "integrated-gradients"' run/attribution/smoothgrad/attribute.json &&
    grep -q '"target": 5' run/attribution/smoothgrad/attribute.json; then
    pass "attribute: SmoothGrad over integrated gradients for a chosen class"
else
    fail "attribute smoothgrad: exit $rc, $(cat err.txt)"
fi
run faithfulness --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0,1,2,3 \
    --method gradcam --metric deletion --curve-steps 8 --out run/faithfulness/deletion-gradcam
if [[ $rc -eq 0 && -s run/faithfulness/deletion-gradcam/curve.svg ]] &&
    grep -q '"mean_auc"' run/faithfulness/deletion-gradcam/faithfulness.json &&
    grep -q '"average_drop"' run/faithfulness/deletion-gradcam/faithfulness.json; then
    pass "faithfulness --metric deletion writes the curve, its AUC and the confidence drop"
else
    fail "faithfulness deletion: exit $rc, $(cat err.txt)"
fi
run faithfulness --model zfnet28 --classes 10 --weights trained/model.safetensors --input $test_images --index 0,1 \
    --method saliency --metric sanity --out run/faithfulness/sanity-saliency
if [[ $rc -eq 0 && -s run/faithfulness/sanity-saliency/curve.svg ]] &&
    grep -q '"conv1"' run/faithfulness/sanity-saliency/faithfulness.json; then
    pass "faithfulness --metric sanity randomises every layer down to conv1"
else
    fail "faithfulness sanity: exit $rc, $(cat err.txt)"
fi
expect_fail 2 "attribute: unknown method" 'gradcam+' -- attribute --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --method gradcam+ --out t_bad
expect_fail 1 "attribute: a layer without feature maps" 'need feature maps' -- attribute --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --method gradcam --layer fc6 --out t_bad
expect_fail 1 "attribute: target out of range" 'outside' -- attribute --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --method saliency --target 10 --out t_bad
expect_fail 1 "attribute: memory limit below the model" 'memory limit of 1 MiB' -- attribute --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --method integrated-gradients --memory 1 --out t_bad
expect_fail 2 "faithfulness: unknown metric" '--metric' -- faithfulness --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --method gradcam --metric pointing --out t_bad
# Feature visualisation and the atlas (beyond the paper).
run visualize --model zfnet28 --classes 10 --weights trained/model.safetensors --layer conv5 --channels 0,1,2,3 \
    --steps 16 --out run/visualize/conv5
if [[ $rc -eq 0 && -s run/visualize/conv5/conv5_c3.png && -s run/visualize/conv5/grid.png ]] &&
    grep -q '"pictures":{"dtype":"F32","shape":\[4,1,28,28\]' run/visualize/conv5/visualization.safetensors &&
    grep -q '"curve":{"dtype":"F32","shape":\[4,16\]' run/visualize/conv5/visualization.safetensors &&
    grep -q '"own_channel"' run/visualize/conv5/visualize.json && grep -q 'own picture best for' out.txt; then
    pass "visualize writes each channel's picture, the grid, the pictures and curves, and the own-channel count"
else
    fail "visualize: exit $rc, $(cat out.txt err.txt)"
fi
run visualize --model zfnet28 --classes 10 --weights trained/model.safetensors --layer fc8 --channels 3 --steps 8 \
    --param pixel --no-transforms --l2 0.1 --tv 0.1 --out vis_logit
if [[ $rc -eq 0 && -s vis_logit/fc8_c3.png ]] && grep -q '"param": "pixel"' vis_logit/visualize.json &&
    ! grep -q '"own_channel"' vis_logit/visualize.json; then
    pass "visualize: a class logit, pixel parametrisation, no transforms, with penalties"
else
    fail "visualize logit: exit $rc, $(cat out.txt err.txt)"
fi
run visualize --model zfnet28 --classes 10 --weights trained/model.safetensors --layer conv3 --objective unit \
    --channels 5 --steps 4 --out vis_unit
[[ $rc -eq 0 && -s vis_unit/conv3_c5_unit.png ]] && grep -q '"objective": "unit 5 at (centre)"' vis_unit/visualize.json &&
    pass "visualize --objective unit" || fail "visualize unit: exit $rc, $(cat out.txt err.txt)"
expect_fail 1 "visualize: channel outside the layer" 'outside 0..63' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer conv5 --channels 64 --steps 2 --out t_bad
expect_fail 2 "visualize: unknown parametrisation" '--param' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer conv5 --param wavelet --out t_bad
expect_fail 1 "visualize: unknown layer" 'nolayer' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer nolayer --out t_bad
expect_fail 1 "visualize: bad --scale" '--scale' 'MIN,MAX' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer conv5 --scale 1.1 --out t_bad
expect_fail 2 "visualize: --channels with --all" '--all' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer conv5 --channels 1 --all --out t_bad
expect_fail 1 "visualize: a channel named twice" 'channel 3 is named twice' -- visualize --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --layer conv5 --channels 3,1,3 --steps 2 --out t_bad
expect_fail 1 "visualize: --out is a file" 'cannot create the output folder' -- visualize \
    --model zfnet28 --classes 10 --weights trained/model.safetensors --layer conv5 --steps 2 \
    --out trained/model.safetensors
run atlas --model zfnet28 --classes 10 --weights trained/model.safetensors --data $test_images --layers conv1,conv2 \
    --max-channels 3 --steps 8 --k 4 --out run/atlas
if [[ $rc -eq 0 && -s run/atlas/index.html && -s run/atlas/conv1.html && -s run/atlas/conv2_c2.html ]] &&
    [[ -s run/atlas/img/conv1_c0_weights.png && -s run/atlas/img/conv2_c1_top.png && -s run/atlas/img/conv2_c1_vis.png ]] &&
    [[ $(ls run/atlas/*.html | wc -l) -eq 9 ]] && grep -q 'href="conv1_c' run/atlas/conv2_c0.html &&
    grep -q 'href="conv2_c' run/atlas/conv1_c0.html && grep -q '9 pages' out.txt; then
    pass "atlas writes an index, a page per layer and per channel, weights, top pictures and neighbour links"
else
    fail "atlas: exit $rc, $(cat out.txt err.txt) $(ls run/atlas 2>&1 | head -20)"
fi
expect_fail 2 "atlas: no data" 'one of --data' -- atlas --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --out t_bad
expect_fail 1 "atlas: missing data" 'nowhere.idx' -- atlas --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --data nowhere.idx --out t_bad
expect_fail 1 "atlas: unknown layer" 'nolayer' -- atlas --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --data $test_images --layers conv1,nolayer --out t_bad
expect_fail 1 "atlas: a layer named twice" 'conv2 is named twice' -- atlas --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --data $test_images --layers conv2,conv1,conv2 --out t_bad
# conv3 does not feed conv5 (conv4 is between), though conv5's weights read as many channels as conv3 has.
run atlas --model zfnet28 --classes 10 --weights trained/model.safetensors --data $test_images --layers conv3,conv4 \
    --max-channels 2 --steps 2 --k 1 --out run_gap/atlas_adjacent
run atlas --model zfnet28 --classes 10 --weights trained/model.safetensors --data $test_images --layers conv3,conv5 \
    --max-channels 2 --steps 2 --k 1 --out run_gap/atlas
if [[ $rc -eq 0 && -s run_gap/atlas/conv5_c0.html ]] && grep -q 'href="conv3_c' run_gap/atlas_adjacent/conv4_c0.html &&
    ! grep -q 'href="conv3_c' run_gap/atlas/conv5_c0.html && ! grep -q 'href="conv5_c' run_gap/atlas/conv3_c0.html; then
    pass "atlas links only layers that feed one another"
else
    fail "atlas with a gap: exit $rc, $(cat out.txt err.txt)"
fi
run report --run run --out run/report.html
if [[ $rc -eq 0 ]] && [[ $(grep -o 'data:image/png;base64' run/report.html | wc -l) -ge 10 ]] &&
    grep -q '<svg' run/report.html && ! grep -q 'src="http' run/report.html; then
    pass "report writes one self-contained page"
else
    fail "report: exit $rc, $(cat err.txt)"
fi
expect_fail 1 "occlusion: square larger than the picture" 'does not fit' -- occlusion --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --label 1 --size 40 --stride 4 --out t_bad
expect_fail 2 "occlusion: no label" '--label' -- occlusion --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --size 4 --stride 4 --out t_bad
expect_fail 1 "occlusion: label out of range" 'outside' -- occlusion --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --label 12 --size 4 --stride 4 --out t_bad
expect_fail 1 "invariance: bad values" "'x' is not a number" -- invariance --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --label 1 --values 1,x --out t_bad
expect_fail 1 "invariance: unknown layer" 'nolayer' -- invariance --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --label 1 --layers nolayer --out t_bad
expect_fail 1 "correspondence: box count" '2 boxes for 3 pictures' -- correspondence --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --index 1,2,3 --boxes "1,1,4,4;1,1,4,4" --out t_bad.json
expect_fail 1 "correspondence: box outside" '' -- correspondence --model zfnet28 --classes 10 \
    --weights trained/model.safetensors --input $test_images --index 1,2 --boxes "1,1,4,4;26,26,4,4" --out t_bad.json
expect_fail 1 "report: no run folder" 'not a folder' -- report --run nowhere --out t_bad.html
[[ ! -e t_bad.json && ! -e t_bad.html ]] || fail "a failed analysis left an output file"

expect_fail 1 "train: pictures of the wrong size for the model" 'use --model zfnet28' -- train --model zfnet --classes 10 \
    --data fashion-mnist --epochs 1 --out t_bad
expect_fail 1 "train: no data folder" 'train/<class>/' -- train --model zfnet28 --classes 10 --data nowhere --out t_bad
expect_fail 1 "evolution: no snapshots" 'no such folder' -- evolution --model zfnet28 --classes 10 --snapshots nowhere \
    --out t_bad
expect_fail 1 "train: bad snapshot list" '--snapshots' -- train --model zfnet28 --classes 10 --snapshots 1,x --out t_bad
cp fmnist/train-labels-idx1-ubyte.gz labels.bak
make_idx fmnist/train-labels-idx1-ubyte.gz 95 labels
expect_fail 1 "train: label count mismatch" '96' '95' -- train --model zfnet28 --classes 10 --epochs 1 --out t_bad
mv labels.bak fmnist/train-labels-idx1-ubyte.gz
[[ ! -e t_bad ]] || fail "a failed train left its output folder"
unset CONVIS_FASHION_MNIST

[[ ! -e y2.safetensors && ! -e w2.safetensors && ! -e z.safetensors ]] || fail "a failed command left an output file"
if ls ./*.tmp-* >/dev/null 2>&1; then fail "a failed command left a temporary file: $(ls ./*.tmp-*)"; fi

# The weights are a quarter of a gigabyte: do not leave them in the build tree.
rm -f w.safetensors truncated.safetensors

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all convis command-line checks passed"
