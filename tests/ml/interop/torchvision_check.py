"""torchvision's side of tests/ml/interop/torchvision.test.ts (run with /usr/bin/python3: Debian's
python3-torch + python3-torchvision). Reads and writes .safetensors with its own few lines of
struct/json/numpy (not the workstation's code, not the `safetensors` package), so the format is
checked from both ends.

  load-export EXPORT PIXELS N SIZE OUT      torchvision.models.resnet50(num_classes from the
                                            metadata).load_state_dict(strict=True), eval logits on
                                            N uint8 SIZE×SIZE RGB images (normalised with the
                                            metadata's val transform) → OUT (JSON)
  save-torchvision OUT_ST INPUT N SIZE OUT  a seeded torchvision resnet50(num_classes=10) with
                                            drawn BN statistics saved as OUT_ST, and its eval
                                            logits on N float32 NHWC normalised inputs → OUT
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision

DTYPES = {"F32": (np.float32, torch.float32), "I64": (np.int64, torch.int64), "F64": (np.float64, torch.float64)}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        arr = np.frombuffer(raw[base + b : base + e], dtype=DTYPES[t["dtype"]][0]).reshape(t["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def write_safetensors(path, tensors, meta):
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_export(export, pixels, n, size, out):
    sd, meta = read_safetensors(export)
    classes = int(meta["classes"])
    assert meta["arch"] == "resnet50" and float(meta["width"]) == 1.0, meta
    model = torchvision.models.resnet50(num_classes=classes)
    missing_unexpected = model.load_state_dict(sd, strict=True)
    vt = json.loads(meta["val_transform"])
    x = np.fromfile(pixels, dtype=np.uint8).reshape(n, size, size, 3)
    x = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0  # ToTensor
    x = torchvision.transforms.Normalize(vt["mean"], vt["std"])(x)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    json.dump(
        {
            "logits": logits.tolist(),
            "keys": len(sd),
            "missing": list(missing_unexpected.missing_keys),
            "unexpected": list(missing_unexpected.unexpected_keys),
            "wnids": json.loads(meta.get("wnids", "null")),
            "val_transform": vt,
            "num_batches_tracked": int(sd["bn1.num_batches_tracked"]),
        },
        open(out, "w"),
    )


def save_torchvision(out_st, inp, n, size, out):
    torch.manual_seed(0)
    model = torchvision.models.resnet50(num_classes=10)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.8 + 0.4 * torch.rand(c, generator=g))
                m.bias.copy_(0.1 * (torch.rand(c, generator=g) - 0.5))
                m.running_mean.copy_(0.2 * (torch.rand(c, generator=g) - 0.5))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.num_batches_tracked.fill_(7)
    write_safetensors(out_st, model.state_dict(), {"format": "pt"})
    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(n, size, size, 3)).permute(0, 3, 1, 2)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    json.dump({"logits": logits.tolist()}, open(out, "w"))


if __name__ == "__main__":
    torch.set_num_threads(4)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load-export":
        load_export(args[0], args[1], int(args[2]), int(args[3]), args[4])
    elif cmd == "save-torchvision":
        save_torchvision(args[0], args[1], int(args[2]), int(args[3]), args[4])
    else:
        raise SystemExit(f"unknown command {cmd}")
