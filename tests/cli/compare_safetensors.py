#!/usr/bin/env python3
"""Compares the float tensors two safetensors files share: the largest |a - b| over the largest |b|
per tensor. Exits 1 if any exceeds the tolerance or the files hold different tensors.

    compare_safetensors.py A B [--tol 1e-4] [--only name,name]

Plain Python (struct + json), so it runs wherever python3 does.
"""
import argparse
import json
import struct
import sys

SIZES = {"F32": ("f", 4), "F64": ("d", 8)}


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in SIZES:
            continue
        code, size = SIZES[t["dtype"]]
        a, b = t["data_offsets"]
        out[name] = struct.unpack(f"<{(b - a) // size}{code}", data[a:b])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    a, b = read(args.a), read(args.b)
    names = [n for n in args.only.split(",") if n] or sorted(set(a) | set(b))
    bad = False
    for name in names:
        if name not in a or name not in b or len(a[name]) != len(b[name]):
            print(f"{name}: missing or of different size")
            bad = True
            continue
        scale = max((abs(v) for v in b[name]), default=0.0)
        diff = max((abs(x - y) for x, y in zip(a[name], b[name])), default=0.0)
        err = diff / scale if scale > 0 else diff
        print(f"{name}: relative error {err:.2e}")
        bad |= not err <= args.tol
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
