#!/usr/bin/env python3
"""Golden fixtures for the learning-rate policies (src-main/ml/schedule/*.ts).

Runs PyTorch's own schedulers on torch.optim.SGD over one dummy parameter and records, per
optimizer step s = 0 … N-1, the lr and momentum of the param group after s calls of
scheduler.step() (last_epoch = s): the values the optimizer uses at step s.

- tests/fixtures/golden/onecycle.json: OneCycleLR for cos/linear, two/three phases, odd total
  steps (1, 2, 7, 100, 1001), pct_start 0.25/0.3, custom div factors and momenta, cycle_momentum
  off. Also the value PyTorch computes at last_epoch = N and its error message one step later.
  For N = 1001 only a subsample of steps is stored (phase boundaries, start, end) to keep it small.
- tests/fixtures/golden/schedules-step-cosine.json: StepLR (step_size = round(stepEpochs ×
  stepsPerEpoch)) and the cosine policy = LinearLR(start_factor=1/W, total_iters=W-1) for the
  first W steps, then CosineAnnealingLR(T_max=N-W, eta_min) (recursive forms, as PyTorch steps them).

Run (Debian: apt-get install python3-torch):
    /usr/bin/python3 scripts/golden/onecycle.py
"""
import json
import math
import os
import warnings

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden")

warnings.simplefilter("ignore")  # "Detected call of lr_scheduler.step() before optimizer.step()" etc.


def make_opt(lr=0.1, momentum=0.9):
    p = torch.nn.Parameter(torch.zeros(1))
    return torch.optim.SGD([p], lr=lr, momentum=momentum)


def onecycle_case(name, total_steps, opt_lr=0.1, opt_momentum=0.9, subsample=False, **kw):
    """kw uses the config's camelCase names; mapped to OneCycleLR's arguments."""
    arg = {
        "max_lr": kw["maxLr"],
        "pct_start": kw.get("pctStart", 0.3),
        "anneal_strategy": kw.get("anneal", "cos"),
        "div_factor": kw.get("divFactor", 25.0),
        "final_div_factor": kw.get("finalDivFactor", 1e4),
        "three_phase": kw.get("threePhase", False),
        "cycle_momentum": kw.get("cycleMomentum", True),
        "base_momentum": kw.get("baseMomentum", 0.85),
        "max_momentum": kw.get("maxMomentum", 0.95),
    }
    opt = make_opt(opt_lr, opt_momentum)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=total_steps, **arg)
    lrs, moms = [], []
    for s in range(total_steps + 1):
        if s > 0:
            opt.step()
            sched.step()
        assert sched.last_epoch == s
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    err = None
    try:
        opt.step()
        sched.step()  # last_epoch = N + 1
    except ValueError as e:
        err = str(e)
    assert err is not None
    steps = list(range(total_steps))
    if subsample:
        n, p = total_steps, arg["pct_start"]
        keep = set(range(0, 12)) | set(range(n - 6, n)) | set(range(0, n, 37))
        for b in (p * n - 1, 2 * p * n - 2):
            for d in range(-2, 3):
                if 0 <= int(b) + d < n:
                    keep.add(int(b) + d)
        steps = sorted(keep)
    return {
        "name": name,
        "config": dict({"policy": "onecycle"}, **kw),
        "totalSteps": total_steps,
        "optimizer": {"lr": opt_lr, "momentum": opt_momentum},
        "steps": steps,
        "lr": [lrs[s] for s in steps],
        "momentum": [moms[s] for s in steps],
        # PyTorch still answers at last_epoch = N (after the last scheduler.step()) ...
        "atTotal": {"lr": lrs[total_steps], "momentum": moms[total_steps]},
        # ... and raises one step later
        "errorAfterTotal": err,
    }


def step_case(name, total_steps, steps_per_epoch, step_epochs, gamma, lr=0.1, momentum=0.9):
    size = max(1, round(step_epochs * steps_per_epoch))
    opt = make_opt(lr, momentum)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=size, gamma=gamma)
    lrs = []
    for s in range(total_steps):
        if s > 0:
            opt.step()
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return {
        "name": name,
        "config": {"policy": "step", "stepEpochs": step_epochs, "gamma": gamma},
        "totalSteps": total_steps,
        "stepsPerEpoch": steps_per_epoch,
        "optimizer": {"lr": lr, "momentum": momentum},
        "lr": lrs,
        "momentum": [momentum] * total_steps,
    }


def cosine_case(name, total_steps, steps_per_epoch, warmup_epochs, min_lr, lr=0.1, momentum=0.9):
    w = round(warmup_epochs * steps_per_epoch)
    lrs = []
    if w > 0:
        opt = make_opt(lr, momentum)
        if w > 1:
            warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1)
        for s in range(min(w, total_steps)):
            if s > 0:
                opt.step()
                warm.step()
            lrs.append(opt.param_groups[0]["lr"])
    if total_steps > w:
        opt = make_opt(lr, momentum)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps - w, eta_min=min_lr)
        for t in range(total_steps - w):
            if t > 0:
                opt.step()
                cos.step()
            lrs.append(opt.param_groups[0]["lr"])
    assert len(lrs) == total_steps
    return {
        "name": name,
        "config": {"policy": "cosine", "warmupEpochs": warmup_epochs, "minLr": min_lr},
        "totalSteps": total_steps,
        "stepsPerEpoch": steps_per_epoch,
        "optimizer": {"lr": lr, "momentum": momentum},
        "lr": lrs,
        "momentum": [momentum] * total_steps,
    }


def main():
    onecycle = [
        onecycle_case("cos-2phase-7", 7, maxLr=0.01),
        onecycle_case("linear-2phase-7", 7, maxLr=0.01, anneal="linear"),
        onecycle_case("cos-3phase-7", 7, maxLr=0.01, threePhase=True),
        onecycle_case("linear-3phase-7-pct025", 7, maxLr=0.01, anneal="linear", threePhase=True, pctStart=0.25),
        onecycle_case("cos-2phase-100-pct025", 100, maxLr=0.4, pctStart=0.25),
        onecycle_case("linear-3phase-100", 100, maxLr=0.4, anneal="linear", threePhase=True),
        onecycle_case(
            "cos-3phase-100-custom", 100, maxLr=1.5, pctStart=0.25, threePhase=True,
            divFactor=10.0, finalDivFactor=100.0, baseMomentum=0.8, maxMomentum=0.9,
        ),
        onecycle_case("cos-2phase-1001", 1001, maxLr=0.01, subsample=True),
        onecycle_case("linear-3phase-1001-pct025", 1001, maxLr=0.05, anneal="linear", threePhase=True, pctStart=0.25, subsample=True),
        onecycle_case("cos-2phase-100-nocycle", 100, maxLr=0.01, cycleMomentum=False, opt_momentum=0.7),
        onecycle_case("cos-2phase-1", 1, maxLr=0.01),
        onecycle_case("cos-3phase-2", 2, maxLr=0.01, threePhase=True),
    ]
    others = [
        step_case("step-2ep-spe5-31", 31, 5, 2, 0.1),
        step_case("step-frac-1.5ep-spe4-40", 40, 4, 1.5, 0.5, lr=0.256),
        step_case("step-30ep-spe1-100", 100, 1, 30, 0.1, lr=0.001),
        cosine_case("cosine-nowarm-50", 50, 10, 0, 0.0),
        cosine_case("cosine-warm1ep-spe7-43", 43, 7, 1, 1e-5, lr=0.2),
        cosine_case("cosine-warm0.5ep-spe10-101", 101, 10, 0.5, 0.001, lr=0.05),
        cosine_case("cosine-warm1step-20", 20, 1, 1, 0.0),
    ]
    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "scripts/golden/onecycle.py", "torch": torch.__version__}
    with open(os.path.join(OUT, "onecycle.json"), "w") as f:
        json.dump(dict(meta, cases=onecycle), f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "schedules-step-cosine.json"), "w") as f:
        json.dump(dict(meta, cases=others), f, separators=(",", ":"))
        f.write("\n")
    print("wrote", len(onecycle), "onecycle and", len(others), "step/cosine cases")


if __name__ == "__main__":
    main()
