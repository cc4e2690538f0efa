#!/usr/bin/env python3
"""Golden fixtures for the tfjs SGD (src-main/ml/optim/sgd.ts).

Runs torch.optim.SGD on small float32 and float64 tensors with fixed, recorded gradients for a
few steps, setting the group's lr and momentum before every step (as OneCycleLR does), and
records the parameters after every step and the momentum buffers after the last one.
Weight decay applies per parameter: parameters with "decay": false sit in a second param group
with weight_decay 0 (what optimizer.excludeBnAndBias does for BN γ/β and biases).

Writes tests/fixtures/golden/sgd.json. Run (Debian: apt-get install python3-torch):
    /usr/bin/python3 scripts/golden/sgd.py
"""
import json
import os
import zlib

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden", "sgd.json")

STEPS = 6
SHAPES = {"conv.kernel": [2, 3], "bn.gamma": [4], "fc.bias": [3]}
ONECYCLE_LR = [0.0004, 0.0025, 0.0081, 0.01, 0.007, 0.002]
ONECYCLE_MOM = [0.95, 0.93, 0.89, 0.85, 0.88, 0.93]


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def case(name, dtype, momentum, dampening, weight_decay, nesterov, lrs, moms, no_decay=(), missing_grad=None):
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    init = {k: torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for k, s in SHAPES.items()}
    grads = [{k: (torch.randn(s, generator=g, dtype=torch.float64) * 0.5).to(dtype) for k, s in SHAPES.items()} for _ in range(STEPS)]
    params = {k: torch.nn.Parameter(v.clone()) for k, v in init.items()}
    decay_p = [params[k] for k in SHAPES if k not in no_decay]
    plain_p = [params[k] for k in SHAPES if k in no_decay]
    groups = [{"params": decay_p, "weight_decay": weight_decay}]
    if plain_p:
        groups.append({"params": plain_p, "weight_decay": 0.0})
    opt = torch.optim.SGD(groups, lr=lrs[0], momentum=momentum, dampening=dampening, nesterov=nesterov)
    traj = []
    for s in range(STEPS):
        for grp in opt.param_groups:
            grp["lr"] = lrs[s]
            grp["momentum"] = moms[s]
        for k, p in params.items():
            # a parameter without a gradient at a step is skipped by SGD (grad None)
            p.grad = None if (missing_grad is not None and missing_grad == (s, k)) else grads[s][k].clone()
        opt.step()
        traj.append({k: flat(p) for k, p in params.items()})
    buffers = {}
    for k, p in params.items():
        st = opt.state.get(p, {})
        if st.get("momentum_buffer") is not None:
            buffers[k] = flat(st["momentum_buffer"])
    return {
        "name": name,
        "dtype": "float32" if dtype == torch.float32 else "float64",
        "optimizer": {"name": "sgd", "lr": lrs[0], "momentum": momentum, "dampening": dampening, "weightDecay": weight_decay, "nesterov": nesterov},
        "shapes": SHAPES,
        "decay": {k: k not in no_decay for k in SHAPES},
        "lr": lrs,
        "momentum": moms,
        "init": {k: flat(v) for k, v in init.items()},
        "grads": [{k: (None if (missing_grad is not None and missing_grad == (s, k)) else flat(v)) for k, v in gs.items()} for s, gs in enumerate(grads)],
        "params": traj,
        "buffers": buffers,
    }


def main():
    const_lr = [0.1] * STEPS
    const_mom = [0.9] * STEPS
    changing_lr = [0.1, 0.05, 0.2, 0.01, 0.3, 0.07]
    cases = [
        case("seed-defaults-f32", torch.float32, 0.9, 0.0, 1e-4, False, const_lr, const_mom),
        case("seed-defaults-f64", torch.float64, 0.9, 0.0, 1e-4, False, const_lr, const_mom),
        case("dampening-0.1-f32", torch.float32, 0.9, 0.1, 1e-4, False, changing_lr, const_mom),
        case("nesterov-f32", torch.float32, 0.9, 0.0, 1e-4, True, changing_lr, const_mom),
        case("nesterov-f64", torch.float64, 0.9, 0.0, 1e-4, True, changing_lr, const_mom),
        case("onecycle-momentum-f32", torch.float32, 0.9, 0.0, 1e-4, False, ONECYCLE_LR, ONECYCLE_MOM),
        case("onecycle-nesterov-damp0-f64", torch.float64, 0.9, 0.0, 1e-4, True, ONECYCLE_LR, ONECYCLE_MOM),
        case("exclude-bn-bias-f32", torch.float32, 0.9, 0.0, 0.05, False, changing_lr, const_mom, no_decay=("bn.gamma", "fc.bias")),
        case("no-momentum-f32", torch.float32, 0.0, 0.0, 1e-4, False, changing_lr, [0.0] * STEPS),
        case("momentum-zero-at-step-2-f32", torch.float32, 0.9, 0.0, 1e-4, False, const_lr, [0.9, 0.9, 0.0, 0.9, 0.5, 0.9]),
        case("missing-grad-f32", torch.float32, 0.9, 0.1, 1e-4, False, changing_lr, const_mom, missing_grad=(0, "fc.bias")),
    ]
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/golden/sgd.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", len(cases), "cases to", OUT)


if __name__ == "__main__":
    main()
