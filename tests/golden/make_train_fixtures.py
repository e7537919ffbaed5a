#!/usr/bin/env python3
"""Golden fixture for the optimiser: three SGD steps of the tiny ZFNet, with filter renormalisation.

How to run
----------
From the repository root::

    /usr/bin/python3 tests/golden/make_train_fixtures.py

It needs PyTorch and NumPy (Debian's ``python3-torch``) and imports the network
builder and the safetensors writer from ``make_fixtures.py`` next to it.  It
writes ``train_step_tinyzf.safetensors`` (about 1.1 MB); re-running with the
same PyTorch version gives a byte-identical file.

What it records
---------------
The tiny ZFNet of ``make_fixtures.py`` (``tests/tiny_zfnet.hpp`` in C++) in
training mode with both dropout layers at p = 0, so the run is deterministic.
A batch of 4 random inputs with random labels.  Starting from ``step0.*`` it
runs ``STEPS`` iterations of

    loss = cross_entropy(net(x), labels)        (mean over the batch)
    loss.backward()
    torch.optim.SGD(lr=0.01, momentum=0.9, weight_decay=5e-4).step()
    filter renormalisation (the paper's "feature scale clipping", Sec. 3):
        for every conv layer and every output channel o,
        rms = sqrt(mean(w[o]**2)); if rms > RADIUS: w[o] *= RADIUS / rms

Weight decay applies to every parameter, biases included (PyTorch's default;
``sgd_options::decay_biases = true`` in convis).  RADIUS is the paper's 0.1.
The initial conv filters are drawn at Kaiming scale times a per-filter factor
in [0.6, 1.4], so in every conv layer some filters start above the radius and
some below: the script asserts that every step renormalises some filters and
leaves others alone.

Numerics: as in ``make_fixtures.py``, inputs and initial parameters are drawn
in float64 and rounded to float32; the trajectory is computed in float64 and
the results are rounded to float32 for storage.  The same run is repeated in
float32 and must agree with the float64 one to 1e-5 relative (printed), which
is the tolerance the C++ test uses.  The script also checks each optimiser step
against the update rule written out by hand:

    d = g + wd * p;  buf = d (first step) else momentum * buf + d;  p -= lr * buf

Tensors (all F32 except ``labels`` and ``renormed``):

    x                    [4, 3, 112, 112]  the batch
    labels               I64 [4]
    loss                 [STEPS]           loss of step k (before its update)
    step{k}.<param>      k = 0..STEPS      parameters before step 1 / after step k
                                           (<param> like conv1.weight, fc8.bias)
    grad1.<param>        gradient of the first step
    momentum.<param>     the momentum buffer after the last step
    renormed             I64 [STEPS, 5]    filters renormalised per step, per conv layer

Metadata: lr, momentum, weight_decay, radius, steps, batch, conv_layers,
params (parameter names in layer order).
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (build_tinyzf, write_safetensors, f32, meta_str)

LR = 0.01
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
RADIUS = 0.1
STEPS = 3
BATCH = 4
SEED = 801
FILENAME = "train_step_tinyzf.safetensors"


def named_params(model):
    """(convis name, parameter) in layer order: conv1.weight, conv1.bias, ..., fc8.bias."""
    names = {}
    for i, lname in enumerate(mf.FEATURE_NAMES):
        names[f"features.{i}"] = lname
    for i, lname in enumerate(mf.CLASSIFIER_NAMES):
        names[f"classifier.{i}"] = lname
    out = []
    for key, p in model.named_parameters():
        mod_key, pname = key.rsplit(".", 1)
        out.append((f"{names[mod_key]}.{pname}", p))
    return out


def conv_weights(model):
    return [(n, p) for n, p in named_params(model) if p.dim() == 4]


def renormalise(model, radius):
    """The paper's filter renormalisation; returns the number of filters rescaled per conv layer."""
    counts = []
    with torch.no_grad():
        for _, w in conv_weights(model):
            rms = w.pow(2).mean(dim=(1, 2, 3)).sqrt()
            over = rms > radius
            scale = torch.where(over, radius / rms, torch.ones_like(rms))
            w.mul_(scale.view(-1, 1, 1, 1))
            counts.append(int(over.sum()))
    return counts


def forward(model, x):
    return model.classifier(torch.flatten(model.features(x), 1))


def initial_state():
    torch.manual_seed(SEED)
    model = mf.build_tinyzf()  # float64
    with torch.no_grad():
        for mod in list(model.features) + list(model.classifier):
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.weight[0].numel()
                factor = 0.6 + 0.8 * torch.rand(mod.weight.shape[0], 1, 1, 1, dtype=mf.DT)
                w = torch.randn(*mod.weight.shape, dtype=mf.DT) * math.sqrt(2.0 / fan_in) * factor
                mod.weight.copy_(mf.f32(w))
                mod.bias.copy_(mf.randn(*mod.bias.shape, scale=0.05))
            elif isinstance(mod, nn.Linear):
                fan_in = mod.weight.shape[1]
                gain = 1.0 if mod is model.classifier[6] else 2.0
                mod.weight.copy_(mf.randn(*mod.weight.shape, scale=math.sqrt(gain / fan_in)))
                mod.bias.copy_(mf.randn(*mod.bias.shape, scale=0.05))
    x = mf.randn(BATCH, 3, 112, 112)
    labels = torch.randint(0, 10, (BATCH,))
    return model, x, labels


def run(model, x, labels, check_rule):
    """STEPS iterations; returns losses, parameter snapshots, first gradients, renorm counts, buffers."""
    model.train()
    model.classifier[0].p = 0.0  # drop6
    model.classifier[3].p = 0.0  # drop7
    params = named_params(model)
    opt = torch.optim.SGD([p for _, p in params], lr=LR, momentum=MOMENTUM,
                          weight_decay=WEIGHT_DECAY)
    snap = lambda: {n: p.detach().clone() for n, p in params}  # noqa: E731
    snapshots = [snap()]
    losses, counts, grad1 = [], [], None
    prev_buf = None
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        loss = F.cross_entropy(forward(model, x), labels, reduction="mean")
        loss.backward()
        losses.append(loss.item())
        grads = {n: p.grad.detach().clone() for n, p in params}
        if grad1 is None:
            grad1 = grads
        before = snap()
        opt.step()
        bufs = {n: opt.state[p]["momentum_buffer"].detach().clone() for n, p in params}
        if check_rule:
            for n, p in params:
                d = grads[n] + WEIGHT_DECAY * before[n]
                buf = d if prev_buf is None else MOMENTUM * prev_buf[n] + d
                assert torch.allclose(bufs[n], buf, rtol=1e-12, atol=1e-15), (step, n)
                assert torch.allclose(p.detach(), before[n] - LR * buf, rtol=1e-12, atol=1e-15), (step, n)
        prev_buf = bufs
        counts.append(renormalise(model, RADIUS))
        snapshots.append(snap())
    return losses, snapshots, grad1, counts, prev_buf


def rel(a, b):
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-300)


def main():
    torch.set_grad_enabled(True)
    torch.set_num_threads(1)

    model, x, labels = initial_state()
    model32 = mf.build_tinyzf().to(torch.float32)
    model32.load_state_dict({k: v.to(torch.float32) for k, v in model.state_dict().items()})

    losses, snaps, grad1, counts, bufs = run(model, x, labels, check_rule=True)
    losses32, snaps32, _, counts32, _ = run(model32, x.to(torch.float32), labels, check_rule=False)

    conv_names = [n.rsplit(".", 1)[0] for n, _ in conv_weights(model)]
    filters = [w.shape[0] for _, w in conv_weights(model)]
    print("tiny ZFNet, SGD lr=%g momentum=%g weight_decay=%g, renorm radius %g" %
          (LR, MOMENTUM, WEIGHT_DECAY, RADIUS))
    for k in range(STEPS):
        print(f"  step {k + 1}: loss {losses[k]:.6f} (float32 {losses32[k]:.6f}); renormalised "
              + ", ".join(f"{c}: {n}/{f}" for c, n, f in zip(conv_names, counts[k], filters)))
        # every step rescales some filters and leaves others alone
        assert sum(counts[k]) > 0 and sum(counts[k]) < sum(filters), counts[k]
        assert counts32[k] == counts[k], (counts32[k], counts[k])
    worst = 0.0
    for k in range(1, STEPS + 1):
        for n in snaps[k]:
            worst = max(worst, rel(snaps32[k][n].to(mf.DT), snaps[k][n]))
            # the update moved every tensor
            assert not torch.equal(snaps[k][n], snaps[k - 1][n]), (k, n)
    worst_loss = max(abs(a - b) / abs(b) for a, b in zip(losses32, losses))
    print(f"  float32 vs float64 trajectory: weights {worst:.2e}, losses {worst_loss:.2e} (relative)")
    assert worst < 1e-5 and worst_loss < 1e-5

    tensors = {"x": x, "labels": labels,
               "loss": torch.tensor(losses, dtype=mf.DT),
               "renormed": torch.tensor(counts, dtype=torch.int64)}
    for k, s in enumerate(snaps):
        for n, v in s.items():
            tensors[f"step{k}.{n}"] = v
    for n, v in grad1.items():
        tensors[f"grad1.{n}"] = v
    for n, v in bufs.items():
        tensors[f"momentum.{n}"] = v
    mf.write_safetensors(FILENAME, tensors, mf.meta_str({
        "kind": "TinyZFTrainSteps", "lr": LR, "momentum": MOMENTUM,
        "weight_decay": WEIGHT_DECAY, "radius": RADIUS, "steps": STEPS, "batch": BATCH,
        "decay_biases": True, "dropout": "p=0 (train mode)",
        "conv_layers": " ".join(conv_names),
        "params": " ".join(n for n, _ in named_params(model)),
    }))
    mf.read_safetensors(FILENAME)
    size = os.path.getsize(os.path.join(mf.OUT_DIR, FILENAME))
    print(f"wrote {FILENAME}, {size} bytes")
    assert size < 1_500_000


if __name__ == "__main__":
    sys.exit(main())
