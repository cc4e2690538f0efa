#!/usr/bin/env python3
"""Golden fixtures for the functional tfjs ResNet-50 (src-main/ml/models/resnet.ts), from PyTorch.

Builds torchvision's ResNet-50 topology (torchvision.models.resnet.Bottleneck, stride on the 3x3)
at a tiny width, fills every parameter and buffer with a closed-form pattern both sides can
compute exactly, and records: eval-mode logits, a training-mode forward + cross-entropy
(label smoothing 0.1) + backward (loss, logits, gradient samples/sums), and the BN running
statistics after that training pass (momentum 0.1, unbiased running_var).
Also checks that torchvision's full ResNet-50 has 25,557,032 parameters.

Run with Debian's python3-torch: /usr/bin/python3 scripts/golden/resnet_golden.py
Writes tests/fixtures/golden/resnet-tiny.json (the tests read only the JSON; CI has no torch).
"""
import json
import os

import torch
import torch.nn as nn
from torchvision.models import resnet50
from torchvision.models.resnet import Bottleneck

WIDTH = 1 / 16
CLASSES = 5
BATCH = 8
SIZE = 64
SMOOTHING = 0.1


def scaled(base):
    return max(1, round(base * WIDTH))


class TinyResNet50(nn.Module):
    """torchvision.models.ResNet with every width scaled (torchvision fixes the stem at 64)."""

    def __init__(self):
        super().__init__()
        stem = scaled(64)
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = stem
        for s, (n, base) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
            planes = scaled(base)
            stride = 1 if s == 0 else 2
            blocks = []
            for b in range(n):
                down = None
                if b == 0:
                    down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride if b == 0 else 1, bias=False), nn.BatchNorm2d(planes * 4))
                blocks.append(Bottleneck(inplanes, planes, stride if b == 0 else 1, down))
                inplanes = planes * 4
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, CLASSES)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def pattern(n, k):
    """Values in [-0.5, 0.5): exact rationals, identical in float64 on both sides, then float32."""
    return torch.tensor([((i * 7919 + k * 104729) % 2003) / 2003 - 0.5 for i in range(n)], dtype=torch.float64)


def our_name(torch_name, is_conv):
    base, leaf = torch_name.rsplit(".", 1)
    if base == "fc":
        return "fc.kernel" if leaf == "weight" else "fc.bias"
    if is_conv:
        return base + ".kernel"
    return base + "." + {"weight": "gamma", "bias": "beta", "running_mean": "running_mean", "running_var": "running_var"}[leaf]


def fill(model):
    """Fills in our variable order (= state_dict order without num_batches_tracked)."""
    names = []
    sd = model.state_dict()
    modules = dict(model.named_modules())
    k = 0
    for name, t in sd.items():
        if name.endswith("num_batches_tracked"):
            continue
        mod = modules[name.rsplit(".", 1)[0]]
        is_conv = isinstance(mod, nn.Conv2d)
        p = pattern(t.numel(), k)
        leaf = name.rsplit(".", 1)[1]
        if is_conv:
            fan_in = t.shape[1] * t.shape[2] * t.shape[3]
            v = p * (2 / fan_in ** 0.5)
        elif isinstance(mod, nn.Linear):
            v = p * (2 / t.shape[1] ** 0.5) if leaf == "weight" else p * 0.2
        elif leaf == "weight":
            v = 1 + 0.2 * p
        elif leaf == "bias":
            v = 0.2 * p
        elif leaf == "running_mean":
            v = 0.2 * p
        else:
            v = 1 + (p + 0.5)
        with torch.no_grad():
            t.copy_(v.to(torch.float32).reshape(t.shape))
        names.append(our_name(name, is_conv))
        k += 1
    return names


def flat(t):
    return [float(x) for x in t.detach().to(torch.float64).flatten().tolist()]


def main():
    full = sum(p.numel() for p in resnet50().parameters())
    assert full == 25557032, full

    x = pattern(BATCH * 3 * SIZE * SIZE, -1).to(torch.float32).reshape(BATCH, 3, SIZE, SIZE) * 4  # NCHW
    labels = torch.tensor([i % CLASSES for i in range(BATCH)])

    def build(dtype):
        m = TinyResNet50().to(dtype)
        names = fill(m)
        return m, names

    model, names = build(torch.float32)
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)

    model.train()
    logits = model(x)
    loss = nn.CrossEntropyLoss(label_smoothing=SMOOTHING)(logits, labels)
    loss.backward()

    # Deep, narrow nets with batch-statistics BN amplify rounding in the backward pass: torch's own
    # float32 gradients differ from float64 by up to ~10% in early layers. So the reference is the
    # float64 gradient, and each tensor carries torch-float32's error as the scale of its tolerance.
    m64, _ = build(torch.float64)
    m64.train()
    nn.CrossEntropyLoss(label_smoothing=SMOOTHING)(m64(x.double()), labels).backward()
    p64 = dict(m64.named_parameters())

    def ours(name, mod, g):
        if isinstance(mod, nn.Conv2d):
            return g.permute(2, 3, 1, 0)  # OIHW -> HWIO
        if isinstance(mod, nn.Linear) and name.endswith("weight"):
            return g.t()  # [out, in] -> [in, out]
        return g

    modules = dict(model.named_modules())
    grads = {}
    for name, p in model.named_parameters():
        mod = modules[name.rsplit(".", 1)[0]]
        g32 = ours(name, mod, p.grad.detach().double()).flatten()
        g64 = ours(name, mod, p64[name].grad.detach()).flatten()
        err = (g32 - g64).abs()
        grads[our_name(name, isinstance(mod, nn.Conv2d))] = {
            "absSum": float(g64.abs().sum()),
            "first": flat(g64[:8]),
            "torchF32MaxErr": float(err.max()),
            "torchF32AbsSumErr": float((g32.abs().sum() - g64.abs().sum()).abs()),
            "maxAbs": float(g64.abs().max()),
        }

    running = {}
    for name, t in model.state_dict().items():
        if "running_" in name and (name.startswith("bn1.") or name.startswith("layer4.2.bn3.") or name.startswith("layer2.0.downsample.1.")):
            running[our_name(name, False)] = flat(t)

    out = {
        "generator": "scripts/golden/resnet_golden.py",
        "torch": torch.__version__,
        "widthMultiplier": WIDTH,
        "numClasses": CLASSES,
        "batch": BATCH,
        "size": SIZE,
        "labelSmoothing": SMOOTHING,
        "labels": labels.tolist(),
        "varNames": names,
        "trainableParams": sum(p.numel() for p in model.parameters()),
        "evalLogits": flat(eval_logits),
        "trainLogits": flat(logits),
        "trainLoss": float(loss),
        "grads": grads,
        "runningAfterTrainStep": running,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "golden", "resnet-tiny.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path), "loss", float(loss))


if __name__ == "__main__":
    main()
