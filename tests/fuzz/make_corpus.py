#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (committed).

Small valid and near-valid inputs, so the fuzzers start inside the formats rather than at random
bytes. Standard library only.
usage: python3 tests/fuzz/make_corpus.py
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors -----------------------------------------------------------------------------
def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape, bytes), laid out in that order."""
    header, offset, blob = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


put("fuzz_safetensors", "f32_metadata", safetensors(
    [("conv1.weight", "F32", [2, 1, 2, 2], f32(*range(8))), ("conv1.bias", "F32", [2], f32(0.5, -0.5))],
    {"format": "pt", "convis.model": "zfnet28"}))
put("fuzz_safetensors", "many_dtypes", safetensors([
    ("a", "F64", [2], struct.pack("<2d", 1.0, -2.0)),
    ("b", "F16", [2], b"\x00\x3c\x00\xc0"),
    ("c", "BF16", [1], b"\x80\x3f"),
    ("d", "I64", [1, 1], struct.pack("<q", -7)),
    ("e", "I32", [2], struct.pack("<2i", 1, 2)),
    ("f", "I16", [1], struct.pack("<h", 3)),
    ("g", "I8", [2], b"\x01\xff"),
    ("h", "U8", [3], b"\x00\x7f\xff"),
    ("i", "BOOL", [1], b"\x01"),
]))
put("fuzz_safetensors", "scalar_and_empty", safetensors([("s", "F32", [], f32(3.0)), ("z", "F32", [0, 4], b"")]))
put("fuzz_safetensors", "empty_header", safetensors([]))
put("fuzz_safetensors", "preprocess", safetensors(
    [("preprocess.mean", "F32", [3], f32(0.485, 0.456, 0.406)), ("preprocess.scale", "F32", [], f32(1 / 255))],
    {"source": "test"}))
good = safetensors([("x", "F32", [2], f32(1, 2)), ("y", "F32", [1], f32(3))])
put("fuzz_safetensors", "overlap", good.replace(b"[8,12]", b"[4,8]"))
put("fuzz_safetensors", "truncated", good[:-3])
put("fuzz_safetensors", "bad_length", struct.pack("<Q", 1 << 40) + good[8:])

# ---- IDX ---------------------------------------------------------------------------------------
def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


images = idx([3, 4, 4], bytes(range(48)))
labels = idx([3], b"\x00\x05\x09")
rgb = idx([2, 2, 2, 3], bytes(range(24)))
put("fuzz_idx", "images_raw", images)
put("fuzz_idx", "labels_raw", labels)
put("fuzz_idx", "rgb_raw", rgb)
put("fuzz_idx", "one_dim_raw", idx([1], b"\x2a"))
put("fuzz_idx", "images_gz", gzip.compress(images, mtime=0))
put("fuzz_idx", "labels_gz", gzip.compress(labels, mtime=0))
put("fuzz_idx", "two_members_gz", gzip.compress(images[:10], mtime=0) + gzip.compress(images[10:], mtime=0))
put("fuzz_idx", "bomb_gz", gzip.compress(idx([4], b"\x00" * 4) + b"\x00" * 20000, mtime=0))
put("fuzz_idx", "trailing_raw", images + b"\x00")
put("fuzz_idx", "i32_type", bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 7]))

# ---- images --------------------------------------------------------------------------------------
def png(width, height, color_type, depth, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


put("fuzz_image", "grey.png", png(4, 3, 0, 8, [bytes(range(y * 4, y * 4 + 4)) for y in range(3)]))
put("fuzz_image", "grey_alpha.png", png(2, 2, 4, 8, [b"\x10\xff\x20\x80", b"\x30\x00\x40\xff"]))
put("fuzz_image", "rgb.png", png(3, 2, 2, 8, [bytes(range(9)), bytes(range(9, 18))]))
put("fuzz_image", "rgba.png", png(2, 2, 6, 8, [bytes(range(8)), bytes(range(8, 16))]))
put("fuzz_image", "grey_1bit.png", png(8, 1, 0, 1, [b"\xa5"]))
put("fuzz_image", "rgb16.png", png(1, 1, 2, 16, [b"\x01\x02\x03\x04\x05\x06"]))
# The JPEG seeds (rgb.jpg, grey.jpg) come from stb_image_write (README.md) and are kept as they are.

# ---- command lines -------------------------------------------------------------------------------
W = "--weights w.safetensors"
lines = [
    "info --model zfnet", "info --model zfnet512 --classes 10", "info --model zfnet-pytorch --classes 1000",
    "info --model zfnet28 --classes 10 --device cpu", "--help", "--version", "forward --help", "info --help-all",
    "init --model zfnet --classes 10 --out w.safetensors --seed 1",
    "init --model zfnet28 --classes 10 --out w.safetensors --scheme kaiming",
    "make-input --out x.safetensors --batch 2 --seed 3 --size 224 --channels 3",
    "make-input --out z.safetensors --seed -1",
    f"forward --model zfnet --classes 10 {W} --input x.safetensors --out y.safetensors --layers conv1,pool5",
    f"project --model zfnet --classes 10 {W} --input x.safetensors --layer pool5 --channel 3 --strongest --out p.png",
    f"project --model zfnet28 --classes 10 {W} --input two.png --layer conv5 --channel 7 --position 1,2 "
    "--mode guided --out p.safetensors",
    f"top9 --model zfnet --classes 10 {W} --images pics --layer pool1 --channels 0,5 --k 2 --out t9",
    f"top9 --model zfnet28 --classes 10 {W} --idx t10k-images-idx3-ubyte.gz --layer conv3 --random 4 --seed 1 --out top9",
    "train --model zfnet28 --classes 10 --data fashion-mnist --epochs 20 --batch 32 --no-augment "
    "--weight-decay 5e-4 --dropout 0.3 --radius 0.5 --cosine --snapshots 1,2,5,10,20 --out run",
    "train --model zfnet28 --classes 10 --data fashion-mnist --epochs 3 --batch 16 --out trained --resume --quiet",
    "evolution --model zfnet28 --classes 10 --snapshots run --data fashion-mnist --layers conv1,conv5 --per-layer 3 --out evo",
    f"occlusion --model zfnet28 --classes 10 {W} --input t10k-images-idx3-ubyte.gz --index 0 "
    "--labels t10k-labels-idx1-ubyte.gz --size 6 --stride 2 --out occ/boot",
    f"occlusion --model zfnet28 --classes 10 {W} --input a.png --label 3 --size 6 --stride 2 --fill 0 --layer conv5 --out o",
    f"invariance --model zfnet28 --classes 10 {W} --input t.idx.gz --index 0,1,2 --labels l.idx.gz "
    "--transform rotate --out inv/rotate",
    f"invariance --model zfnet28 --classes 10 {W} --input a.png --label 1 --transform scale --values=0.5,1,2 --out s",
    f"correspondence --model zfnet28 --classes 10 {W} --input t.idx.gz --index 2,3,5 --part waistband "
    "--boxes 0,9,6,11;0,9,6,11;0,9,6,11 --random 20 --out corr/waistband.json",
    "report --run out --out out/report.html",
    "info --model zfnet --bogus", "info --model alexnet", "info --model zfnet --classes ten", "info", "frobnicate",
    "forward --model zfnet --input x.safetensors --out y2.safetensors",
    "init --model zfnet --out w2.safetensors --scheme xavier",
    "make-input --out z.safetensors --batch 0",
    f"occlusion --model zfnet28 --classes 10 {W} --input a.png --label 1 --labels l.gz --size 6 --stride 2 --out o",
    "forward --model zfnet --device gpu --weights w --input x --out y",
]
for i, line in enumerate(lines):
    put("fuzz_cli", "cmd%02d" % i, b"\x00".join(a.encode() for a in line.split(" ")))
