#!/usr/bin/env python3
"""Writes a PyTorch state_dict as a .safetensors file that convis loads as it is.

    python3 examples/export_state_dict.py model.pth model.safetensors [--mean 123.68,116.78,103.94]

model.pth holds a state_dict (or a whole nn.Module, or a dict with a "state_dict" key). Tensor
names and layouts are kept (conv [out,in,kh,kw], linear [out,in]); float tensors are written as
F32 (F64 stays F64); integer buffers such as BatchNorm's num_batches_tracked are skipped. --mean
stores the input mean as `preprocess.mean`. Needs only torch, not the safetensors package.
"""
import argparse
import json
import os
import struct
import sys

import torch


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pth")
    ap.add_argument("out")
    ap.add_argument("--mean", help="comma-separated per-channel input mean, stored as preprocess.mean")
    args = ap.parse_args()
    obj = torch.load(args.pth, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    tensors = {}
    for k, v in obj.items():
        k = k[len("module."):] if k.startswith("module.") else k  # DataParallel prefix
        if v.dtype == torch.float64:
            tensors[k] = v
        elif v.is_floating_point():
            tensors[k] = v.float()
        else:
            print(f"skipping non-float tensor {k} ({v.dtype})", file=sys.stderr)
    if args.mean:
        tensors["preprocess.mean"] = torch.tensor([float(x) for x in args.mean.split(",")])
    write_safetensors(args.out, tensors, {"format": "pt"})
    print(f"wrote {len(tensors)} tensors to {args.out}")


if __name__ == "__main__":
    main()
