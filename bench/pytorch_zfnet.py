"""ZFNet (Zeiler & Fergus, 2014) in PyTorch, defined exactly as convis defines it.

This module exists so that ``bench/compare_pytorch.py`` can measure PyTorch on
the *same* network that convis' ``BM_ZFNet_*`` benchmarks run.  Any difference
between the two definitions (a padding, a pooling rounding mode, a layer size)
would change the amount of work and make the comparison meaningless, so the
architecture is checked against the figures convis uses:

* 62,357,608 trainable parameters;
* spatial output sizes 110, 55, 26, 13, 13, 13, 13, 6 for a 224x224 input
  (conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5).

Layer list (Table/Figure 3 of the paper, convis' variant):

    conv1  Conv2d(3, 96, 7, stride 2, pad 1)   -> ReLU -> MaxPool(3, 2, ceil) -> LRN(5)
    conv2  Conv2d(96, 256, 5, stride 2, pad 0) -> ReLU -> MaxPool(3, 2, ceil) -> LRN(5)
    conv3  Conv2d(256, 384, 3, stride 1, pad 1) -> ReLU
    conv4  Conv2d(384, 384, 3, stride 1, pad 1) -> ReLU
    conv5  Conv2d(384, 256, 3, stride 1, pad 1) -> ReLU -> MaxPool(3, 2, ceil)
    Flatten -> Dropout(0.5) -> fc6 Linear(9216, 4096) -> ReLU
            -> Dropout(0.5) -> fc7 Linear(4096, 4096) -> ReLU
            -> fc8 Linear(4096, num_classes)

LRN is ``LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2)``.  ReLUs are
in-place by default: the benchmark wants PyTorch at its best, and in-place
ReLU is what idiomatic PyTorch models (e.g. torchvision's AlexNet) use.

Run ``python3 bench/pytorch_zfnet.py`` to print the architecture check.
"""

from __future__ import annotations

import torch
from torch import nn

#: Trainable parameters of ZFNet with 1000 classes.
EXPECTED_PARAMETERS = 62_357_608

#: Spatial output size (height == width) of conv1, pool1, conv2, pool2,
#: conv3, conv4, conv5, pool5 for a 224x224 input.
EXPECTED_SPATIAL_SIZES = (110, 55, 26, 13, 13, 13, 13, 6)

INPUT_SIZE = 224
INPUT_CHANNELS = 3
NUM_CLASSES = 1000


def _lrn() -> nn.LocalResponseNorm:
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


def build_zfnet(num_classes: int = NUM_CLASSES, inplace_relu: bool = True) -> nn.Sequential:
    """Return ZFNet as an ``nn.Sequential`` (PyTorch default initialisation)."""
    relu = lambda: nn.ReLU(inplace=inplace_relu)  # noqa: E731
    return nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),     # conv1
        relu(),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),    # pool1
        _lrn(),
        nn.Conv2d(96, 256, kernel_size=5, stride=2, padding=0),   # conv2
        relu(),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),    # pool2
        _lrn(),
        nn.Conv2d(256, 384, kernel_size=3, stride=1, padding=1),  # conv3
        relu(),
        nn.Conv2d(384, 384, kernel_size=3, stride=1, padding=1),  # conv4
        relu(),
        nn.Conv2d(384, 256, kernel_size=3, stride=1, padding=1),  # conv5
        relu(),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),    # pool5
        nn.Flatten(),
        nn.Dropout(p=0.5),
        nn.Linear(256 * 6 * 6, 4096),                             # fc6
        relu(),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 4096),                                    # fc7
        relu(),
        nn.Linear(4096, num_classes),                             # fc8
    )


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def spatial_sizes(model: nn.Sequential, input_size: int = INPUT_SIZE) -> list[int]:
    """Spatial output size of every Conv2d / MaxPool2d, in order, for one image."""
    sizes: list[int] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
        for m in model
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d))
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, INPUT_CHANNELS, input_size, input_size))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return sizes


def check_architecture(model: nn.Sequential, num_classes: int = NUM_CLASSES) -> None:
    """Raise ``AssertionError`` unless ``model`` matches convis' ZFNet."""
    if num_classes == NUM_CLASSES:
        n = count_parameters(model)
        assert n == EXPECTED_PARAMETERS, f"ZFNet has {n:,} parameters, expected {EXPECTED_PARAMETERS:,}"
    sizes = spatial_sizes(model)
    assert tuple(sizes) == EXPECTED_SPATIAL_SIZES, (
        f"ZFNet spatial sizes {sizes}, expected {list(EXPECTED_SPATIAL_SIZES)}"
    )


if __name__ == "__main__":
    net = build_zfnet()
    check_architecture(net)
    print(net)
    print(f"parameters: {count_parameters(net):,}")
    print(f"spatial sizes (conv1..pool5): {spatial_sizes(net)}")
    print("architecture matches convis' ZFNet")
