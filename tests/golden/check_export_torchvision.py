#!/usr/bin/env python3
"""torchvision checkpoints through examples/export_state_dict.py into `convis forward` (issue 18).

    /usr/bin/python3 tests/golden/check_export_torchvision.py [--convis build/bin/convis]

For ResNet-18, VGG16-BN and AlexNet (torchvision's definitions, 7 classes, random weights with
BatchNorm statistics away from 0 and 1): saves the state_dict as PyTorch does (.pth), converts it
with examples/export_state_dict.py, runs `convis forward` on two random pictures and prints the
largest logit difference over the largest logit. Needs python3-torch and python3-torchvision; the
C++ tests never do (they use the fixtures of make_zoo_fixtures.py).
"""
import argparse
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torchvision

ROOT = Path(__file__).resolve().parents[2]


def write_input(path, x):
    data = x.numpy().astype("<f4").tobytes()
    header = json.dumps({"input": {"dtype": "F32", "shape": list(x.shape), "data_offsets": [0, len(data)]}}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(header)) + header + data)


def read_tensor(path, name):
    raw = Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    a, b = header[name]["data_offsets"]
    return np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(header[name]["shape"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--convis", default=str(ROOT / "build" / "bin" / "convis"))
    args = p.parse_args()
    torch.manual_seed(0)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, model, last in [("resnet18", "resnet18", "fc"), ("vgg16_bn", "vgg16-bn", "classifier.6"),
                                  ("alexnet", "alexnet", "classifier.6")]:
            net = getattr(torchvision.models, name)(num_classes=7).eval()
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.data.uniform_(0.5, 1.5)
            torch.save(net.state_dict(), tmp / f"{name}.pth")
            subprocess.run([sys.executable, str(ROOT / "examples" / "export_state_dict.py"), str(tmp / f"{name}.pth"),
                            str(tmp / f"{name}.safetensors")], check=True, capture_output=True)
            x = torch.randn(2, 3, 224, 224)
            write_input(tmp / "in.safetensors", x)
            subprocess.run([args.convis, "forward", "--model", model, "--classes", "7", "--weights",
                            str(tmp / f"{name}.safetensors"), "--input", str(tmp / "in.safetensors"),
                            "--out", str(tmp / "out.safetensors"), "--layers", last], check=True, capture_output=True)
            got = read_tensor(tmp / "out.safetensors", last)
            with torch.no_grad():
                want = net(x).numpy()
            err = float(np.abs(got - want).max() / np.abs(want).max())
            worst = max(worst, err)
            print(f"{name:9s} {last}: largest |difference| / largest |logit| = {err:.2e}")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
