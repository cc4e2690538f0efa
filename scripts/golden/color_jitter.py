#!/usr/bin/env python3
"""Golden fixtures for the tfjs ColorJitter (src-main/ml/augment/color-jitter.ts).

Runs torchvision's own tensor implementation (torchvision.transforms.functional_tensor via
torchvision.transforms.functional, and the ColorJitter module itself) on small crops of real
ImageNet sample JPEGs and writes inputs, drawn parameters and expected outputs to
tests/fixtures/golden/color-jitter.json. The TS test feeds the same draws and compares.

Run (Debian: apt-get install python3-torch python3-torchvision python3-pil):
    /usr/bin/python3 scripts/golden/color_jitter.py [--samples ../shared/data/imagenet-samples]
"""
import argparse
import json
import os

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPS = ["brightness", "contrast", "saturation", "hue"]
H, W = 12, 16
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# (file, left, top): crops with saturated colours, grey pixels (grayscale JPEG) and highlights.
CROPS = [
    ("n02281406_sulphur_butterfly.JPEG", 16, 204),
    ("n02096051_Airedale.JPEG", 150, 100),  # grayscale JPEG: r == g == b everywhere
    ("n07747607_orange.JPEG", 272, 264),
    ("n04296562_stage.JPEG", 160, 480),  # all six hue sectors
    ("n03379051_football_helmet.JPEG", 336, 300),  # all six hue sectors
]


def load_crop(samples, name, left, top):
    img = Image.open(os.path.join(samples, name)).convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)[top : top + H, left : left + W, :]
    assert arr.shape == (H, W, 3), (name, arr.shape)
    return arr


def to_chw(arr):
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255.0


def apply(img, draw):
    """The seed's per-sample semantics: whole transform with probability p, ops in draw order."""
    if not draw["applied"]:
        return img
    for op in draw["order"]:
        f = draw[op]
        # torchvision skips an op whose parameter is off (None); factor 1 / shift 0 is "off".
        if op == "brightness" and f != 1:
            img = F.adjust_brightness(img, f)
        elif op == "contrast" and f != 1:
            img = F.adjust_contrast(img, f)
        elif op == "saturation" and f != 1:
            img = F.adjust_saturation(img, f)
        elif op == "hue" and f != 0:
            img = F.adjust_hue(img, f)
    return img


def flat(t):
    # CHW → HWC, flat, float32 printed with 7 significant digits (the test tolerance is 1e-5).
    return [float("%.7g" % v) for v in t.permute(1, 2, 0).reshape(-1).tolist()]


def draw(applied, b, c, s, h, order):
    return {"applied": applied, "brightness": b, "contrast": c, "saturation": s, "hue": h, "order": order}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", default=os.path.join(ROOT, "..", "shared", "data", "imagenet-samples"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "golden", "color-jitter.json"))
    args = ap.parse_args()

    images = [load_crop(args.samples, *c) for c in CROPS]
    cases = []

    def add(name, img_index, d, with_normalized=False):
        out = apply(to_chw(images[img_index]), d)
        case = {"name": name, "image": img_index, "draw": d, "expected": flat(out)}
        if with_normalized:
            case["normalized"] = flat(F.normalize(out, MEAN, STD))
        cases.append(case)

    # Each op alone, including clamping factors and hue wrap-around.
    add("brightness 1.7 (clamps)", 0, draw(True, 1.7, 1, 1, 0, ["brightness", "contrast", "saturation", "hue"]))
    add("brightness 0.3", 2, draw(True, 0.3, 1, 1, 0, ["brightness", "contrast", "saturation", "hue"]))
    add("contrast 1.8", 0, draw(True, 1, 1.8, 1, 0, ["contrast", "brightness", "saturation", "hue"]))
    add("contrast 0 (flat mean)", 3, draw(True, 1, 0.0, 1, 0, ["contrast", "brightness", "saturation", "hue"]))
    add("saturation 1.9", 2, draw(True, 1, 1, 1.9, 0, ["saturation", "brightness", "contrast", "hue"]))
    add("saturation 0 (gray)", 0, draw(True, 1, 1, 0.0, 0, ["saturation", "brightness", "contrast", "hue"]))
    add("hue +0.31", 2, draw(True, 1, 1, 1, 0.31, ["hue", "brightness", "contrast", "saturation"]))
    add("hue -0.5", 0, draw(True, 1, 1, 1, -0.5, ["hue", "brightness", "contrast", "saturation"]))
    add("hue +0.17, all sectors", 3, draw(True, 1, 1, 1, 0.17, ["hue", "brightness", "contrast", "saturation"]))
    add("hue -0.38, all sectors", 4, draw(True, 1, 1, 1, -0.38, ["hue", "brightness", "contrast", "saturation"]))
    add("hue on a grayscale image", 1, draw(True, 1, 1, 1, 0.2, ["hue", "brightness", "contrast", "saturation"]))
    # All four, orders that matter (brightness clamp before/after contrast etc.).
    add("all: b c s h", 4, draw(True, 1.15, 0.85, 1.2, 0.04, ["brightness", "contrast", "saturation", "hue"]), True)
    add("all: h s c b", 0, draw(True, 1.15, 0.85, 1.2, 0.04, ["hue", "saturation", "contrast", "brightness"]), True)
    add("all: c h b s", 3, draw(True, 1.6, 1.5, 0.4, -0.12, ["contrast", "hue", "brightness", "saturation"]), True)
    add("all: s b h c grayscale", 1, draw(True, 0.9, 1.3, 1.4, 0.45, ["saturation", "brightness", "hue", "contrast"]), True)
    add("not applied", 2, draw(False, 1.3, 0.7, 1.5, 0.2, ["hue", "contrast", "brightness", "saturation"]), True)

    # torchvision's ColorJitter module itself: the draws it makes (get_params under the same torch
    # seed) applied by `apply` must reproduce its forward(), i.e. the order/skip semantics above.
    cj_ranges = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    cj = T.ColorJitter(**cj_ranges)
    for k, img_index in enumerate([0, 2, 3, 1, 4]):
        torch.manual_seed(1000 + k)
        fn_idx, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
        d = draw(True, b, c, s, h, [OPS[int(i)] for i in fn_idx])
        torch.manual_seed(1000 + k)
        out = cj(to_chw(images[img_index]))
        assert torch.equal(out, apply(to_chw(images[img_index]), d)), "apply() does not reproduce ColorJitter.forward"
        cases.append({"name": f"torchvision ColorJitter forward #{k}", "image": img_index, "draw": d, "expected": flat(out)})

    doc = {
        "generator": "scripts/golden/color_jitter.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "height": H,
        "width": W,
        "mean": MEAN,
        "std": STD,
        "images": [{"source": c[0], "left": c[1], "top": c[2], "hwc": img.reshape(-1).tolist()} for c, img in zip(CROPS, images)],
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {args.out}: {len(cases)} cases, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
