#!/usr/bin/env python3
"""Continues a workstation run with PyTorch DistributedDataParallel. Written into a scale-out folder
by `workstation scale-out`; launched by run.sh through torchrun (python -m torch.distributed.run).

What it continues (see README.md beside it): the same ResNet-50 (torchvision's; at other widths the
same module names and shapes), its weights, BN statistics and SGD momentum buffers, the schedule
from the checkpoint's global step, the augmentation in effect at the checkpoint (torchvision
RandomResizedCrop / flip / ColorJitter), the same global batch, steps per epoch, validation files
and metrics. Rank 0 appends each epoch's metrics and checkpoint to metrics.jsonl, which
`workstation import-metrics` (and every workstation service start) turns into the child run's epoch
rows and checkpoints. When a workstation service runs on this machine on the data directory the
folder came from, rank 0 also reports each record to it as it happens (HTTP on 127.0.0.1, the token
from its service.json, read at every report), so the app shows the run live; without one (or with
--no-live-report) the file is the only route, and nothing is lost either way.

Self-contained: torch + torchvision (>= 1.13 / 0.14) and numpy, nothing else (live reports use the
standard library's urllib). The .safetensors files are read and written here with a few lines of
struct/json (no `safetensors` package).
"""
import argparse
import datetime
import glob
import json
import math
import os
import queue
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image, ImageOps
from torchvision.models.resnet import Bottleneck

HERE = os.path.dirname(os.path.abspath(__file__))
MOMENTUM_PREFIX = "optimizer.momentum_buffer."
NP_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
ST_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


# --- safetensors (8-byte LE header length, JSON header, raw little-endian tensors) ---------------
def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        arr = np.frombuffer(raw, dtype=NP_DTYPES[t["dtype"]], count=(e - b) // np.dtype(NP_DTYPES[t["dtype"]]).itemsize, offset=base + b)
        tensors[name] = torch.from_numpy(arr.reshape(t["shape"]).copy())
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        data = t.detach().to("cpu").contiguous().numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --- the model: torchvision's ResNet-50 layout at any width ---------------------------------------
class ResNet50(nn.Module):
    """torchvision.models.ResNet(Bottleneck, [3, 4, 6, 3]) with explicit widths (the workstation's
    scaled widths; width 1 is torchvision's resnet50 exactly). Same module names, so the same
    state_dict keys."""

    def __init__(self, stem, planes, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = stem
        for s, (n, p) in enumerate(zip([3, 4, 6, 3], planes)):
            blocks = []
            for b in range(n):
                stride = 2 if (b == 0 and s > 0) else 1
                down = None
                if b == 0:
                    down = nn.Sequential(nn.Conv2d(inplanes, p * 4, 1, stride, bias=False), nn.BatchNorm2d(p * 4))
                blocks.append(Bottleneck(inplanes, p, stride, down))
                inplanes = p * 4
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def create_model(m):
    if m["stem"] == 64 and m["planes"] == [64, 128, 256, 512]:
        return torchvision.models.resnet50(num_classes=m["numClasses"])
    return ResNet50(m["stem"], m["planes"], m["numClasses"])


# --- schedules: the workstation's four policies, per optimizer step (src-main/ml/schedule) --------
def js_round(x):
    return math.floor(x + 0.5)


def schedule_at(policy, total, spe, base_lr, base_mom, step):
    if step >= total:
        raise RuntimeError(f"Tried to step {step + 1} times. The specified number of total steps is {total}")
    p = policy["policy"]
    if p == "constant":
        return base_lr, base_mom
    if p == "step":
        size = max(1, js_round(policy["stepEpochs"] * spe))
        lr = base_lr
        for _ in range(step // size):
            lr = lr * policy.get("gamma", 0.1)
        return lr, base_mom
    if p == "cosine":
        w = js_round(policy.get("warmupEpochs", 0) * spe)
        c = total - w
        if step < w:
            return base_lr * (step + 1) / w, base_mom
        mn = policy.get("minLr", 0)
        return mn + (base_lr - mn) * (1 + math.cos(math.pi * (step - w) / c)) / 2, base_mom
    if p == "onecycle":
        # torch.optim.lr_scheduler.OneCycleLR.get_lr at last_epoch = step
        initial = policy["maxLr"] / policy["divFactor"]
        lrs = {"initial": initial, "max": policy["maxLr"], "min": initial / policy["finalDivFactor"]}
        moms = {"max": policy["maxMomentum"], "base": policy["baseMomentum"]}
        pct_start, n = policy["pctStart"], total
        if policy["threePhase"]:
            phases = [(pct_start * n - 1, "initial", "max", "max", "base"), (2 * pct_start * n - 2, "max", "initial", "base", "max"), (n - 1, "initial", "min", "max", "max")]
        else:
            phases = [(pct_start * n - 1, "initial", "max", "max", "base"), (n - 1, "max", "min", "base", "max")]

        def anneal(a, b, pct):
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1) if policy["anneal"] == "cos" else (b - a) * pct + a

        start = 0
        for i, (end, l0, l1, m0, m1) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                pct = (step - start) / (end - start)
                lr = anneal(lrs[l0], lrs[l1], pct)
                mom = anneal(moms[m0], moms[m1], pct) if policy["cycleMomentum"] else base_mom
                return lr, mom
            start = end
    raise RuntimeError(f"unknown schedule policy {p}")


def train_size_for_epoch(data, epoch):
    size = data["trainSize"]
    for s in sorted(data.get("trainSizeSchedule", []), key=lambda s: s["epoch"]):
        if epoch >= s["epoch"]:
            size = s["size"]
    return size


# --- data ------------------------------------------------------------------------------------------
def load_rgb(path):
    # EXIF orientation applied, as the workstation's decoder does (PIL leaves it to the caller)
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


class Files(torch.utils.data.Dataset):
    """(path, label) samples; a file that fails to decode yields None (skipped and counted, as in the workstation)."""

    def __init__(self, samples, transform):
        self.samples = samples
        self.transform = transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        try:
            return self.transform(load_rgb(path)), label
        except Exception as e:  # noqa: BLE001 - any decode problem skips the file
            print(f"[warn] skipped {path}: {e}", file=sys.stderr, flush=True)
            return None


def collate(batch):
    kept = [b for b in batch if b is not None]
    skipped = len(batch) - len(kept)
    if not kept:
        return None, None, skipped
    return torch.stack([b[0] for b in kept]), torch.tensor([b[1] for b in kept]), skipped


def train_transform(aug, size):
    rrc = aug["randomResizedCrop"]
    cj = aug["colorJitter"]
    crop = T.RandomResizedCrop(size, scale=tuple(rrc["scale"]), ratio=tuple(rrc["ratio"])) if rrc["enabled"] else T.Resize((size, size))
    return T.Compose(
        [
            crop,
            T.RandomHorizontalFlip(p=aug["hflip"]),
            T.RandomApply([T.ColorJitter(cj["brightness"], cj["contrast"], cj["saturation"], cj["hue"])], p=cj["p"]),
            T.ToTensor(),
            T.Normalize(aug["normalize"]["mean"], aug["normalize"]["std"]),
        ]
    )


def val_transform(data, aug):
    if data["valTransform"] == "resize":
        geo = [T.Resize((data["valSize"], data["valSize"]))]
    else:
        geo = [T.Resize(data["valResize"]), T.CenterCrop(data["valSize"])]
    return T.Compose(geo + [T.ToTensor(), T.Normalize(aug["normalize"]["mean"], aug["normalize"]["std"])])


def train_samples(root, train_dir, wnids):
    folder = torchvision.datasets.ImageFolder(os.path.join(root, train_dir))
    if folder.classes != wnids[: len(folder.classes)] or len(folder.classes) != len(wnids):
        raise SystemExit(
            f"{os.path.join(root, train_dir)} has {len(folder.classes)} class folders that are not the run's {len(wnids)} classes "
            f"(first: {folder.classes[:3]} vs {wnids[:3]}): point --data-root at the same dataset"
        )
    return folder.samples


# --- distributed helpers ---------------------------------------------------------------------------
def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def finite(v):
    """JSON has no NaN or Infinity (a diverged loss): null instead, which the workstation reads as not a number."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite(x) for x in v]
    return v


# the workstation service's endpoint for these records (src-main/service/transports/http-server.ts)
REPORT_PATH = "/api/scale-out/report"
REPORT_TIMEOUT_S = 2.0  # a service that does not answer within this is left alone for REPORT_PAUSE_S
CHECKPOINT_TIMEOUT_S = 60.0  # the service converts the checkpoint before it answers
REPORT_PAUSE_S = 60.0


class LiveReport:
    """Sends each record to the workstation service on this machine, from a background thread (training
    never waits for it). The service is found at every report in <dataDir>/service.json (a service
    restarted meanwhile has a new port and token); none there, another database, a dead pid, a refused
    or slow connection: the record is skipped silently, since metrics.jsonl already holds it and the
    service imports that file at its start (and catches up at the next report it gets)."""

    def __init__(self, plan):
        self.service_file = os.path.join(plan["dataDir"], "service.json")
        self.db = os.path.realpath(plan["dbPath"])
        self.body = {"dir": HERE, "runId": plan["runId"], "owner": {"pid": os.getpid(), "host": socket.gethostname()}}
        # straight to 127.0.0.1, never through an http_proxy from the environment
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.queue = queue.Queue()
        self.paused_until = 0.0
        self.last_progress = 0.0
        self.announced = None
        self.warned = False
        self.thread = threading.Thread(target=self._run, name="workstation-live-report", daemon=True)
        self.thread.start()

    def send(self, record, droppable=False):
        if droppable:
            # progress: at most one a second, and never queued behind another record
            t = time.monotonic()
            if t < self.paused_until or t - self.last_progress < 1.0 or not self.queue.empty():
                return
            self.last_progress = t
        self.queue.put(record)

    def close(self, timeout=CHECKPOINT_TIMEOUT_S):
        """Waits (bounded) until the records sent so far have been delivered or given up on."""
        self.queue.put(None)
        self.thread.join(timeout)

    def _run(self):
        while True:
            record = self.queue.get()
            try:
                if record is None:
                    return
                if time.monotonic() >= self.paused_until:
                    self._post(record)
            except Exception as e:  # noqa: BLE001 - the file has the record; live is best effort
                slow = (TimeoutError, socket.timeout)  # the same class from Python 3.10 on
                if isinstance(e, slow) or isinstance(getattr(e, "reason", None), slow):
                    self.paused_until = time.monotonic() + REPORT_PAUSE_S
            finally:
                self.queue.task_done()

    def _target(self):
        try:
            with open(self.service_file, encoding="utf-8") as f:
                s = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(s, dict) or not isinstance(s.get("dbPath"), str) or os.path.realpath(s["dbPath"]) != self.db:
            return None
        pid, port, token = s.get("pid"), s.get("port"), s.get("token")
        if not (isinstance(pid, int) and isinstance(port, int) and isinstance(token, str) and token):
            return None
        try:
            os.kill(pid, 0)  # a stale file from a service that is gone
        except PermissionError:
            pass
        except OSError:
            return None
        host = s.get("host") if isinstance(s.get("host"), str) else "127.0.0.1"
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{REPORT_PATH}", token, pid

    def _post(self, record):
        target = self._target()
        if target is None:
            return
        url, token, pid = target
        data = json.dumps({**self.body, "record": record}, allow_nan=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        timeout = CHECKPOINT_TIMEOUT_S if record.get("type") == "checkpoint" else REPORT_TIMEOUT_S
        try:
            with self.opener.open(req, timeout=timeout) as r:
                r.read()
        except urllib.error.HTTPError as e:
            # it answered, and refused: say so once (a folder from another database, a version mismatch)
            if not self.warned:
                self.warned = True
                detail = e.read().decode("utf-8", "replace").strip()[:300]
                print(f"[warn] the workstation service (pid {pid}) refused a live report (HTTP {e.code}: {detail}); metrics.jsonl keeps every record", flush=True)
            return
        if self.announced != pid:
            self.announced = pid
            print(f"reporting live to the workstation service (pid {pid}); metrics.jsonl keeps every record as well", flush=True)


class Report:
    """metrics.jsonl: one JSON record a line, appended and fsynced by rank 0 only; then, when live
    reporting is on, the same record to the workstation service (LiveReport)."""

    def __init__(self, path, enabled, live=None):
        self.path, self.enabled = path, enabled
        self.live = live if enabled else None

    def __call__(self, record):
        if not self.enabled:
            return
        record = finite({**record, "at": now()})
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.live:
            self.live.send(record)

    def progress(self, record):
        """a training step, live only (not in metrics.jsonl)"""
        if self.live:
            self.live.send(finite({"type": "progress", **record}), droppable=True)

    def close(self):
        if self.live:
            self.live.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--data-root", help="dataset root on this machine (default: the path the workstation used)")
    ap.add_argument("--resume", help="start from this checkpoint (default: the newest checkpoints/epoch-*.safetensors, else checkpoint.safetensors)")
    ap.add_argument("--epochs", type=int, help="the epoch to end at (default: scale-out.json targetEpochs)")
    ap.add_argument("--workers", type=int, help="data loader processes per rank (default: data.workers, or cores / ranks - 1)")
    ap.add_argument("--sync-bn", action="store_true", help="BatchNorm statistics over the global batch (SyncBatchNorm) instead of each rank's share")
    ap.add_argument("--no-live-report", action="store_true", help="do not report to a workstation service on this machine (metrics.jsonl only)")
    args = ap.parse_args()

    plan = json.load(open(os.path.join(HERE, "scale-out.json")))
    cfg = json.load(open(os.path.join(HERE, "config.json")))
    target = args.epochs or plan["targetEpochs"]
    cfg["train"]["epochs"] = target

    backend = "nccl" if args.device == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    if args.device == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    report = Report(os.path.join(HERE, "metrics.jsonl"), rank == 0, LiveReport(plan) if rank == 0 and not args.no_live_report else None)
    ckpt_dir = os.path.join(HERE, "checkpoints")
    if rank == 0:
        os.makedirs(ckpt_dir, exist_ok=True)

    batch = cfg["train"]["batchSize"]
    if batch % world != 0:
        raise SystemExit(f"train.batchSize {batch} must divide evenly over {world} processes (the global batch stays the workstation's)")
    local_batch = batch // world

    resume = args.resume
    if not resume:
        done = sorted(glob.glob(os.path.join(ckpt_dir, "epoch-*.safetensors")))
        resume = done[-1] if done else os.path.join(HERE, plan["checkpoint"])
    tensors, meta = read_safetensors(resume)
    header = json.loads(meta["workstation_checkpoint"])
    aug = header.get("augment") or cfg["augment"]

    torch.manual_seed(cfg["seed"] * 1000 + rank)
    model = create_model(plan["model"])
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(MOMENTUM_PREFIX)}, strict=True)
    if args.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    named = list(model.named_parameters())
    o = cfg["optimizer"]
    if o.get("excludeBnAndBias"):
        groups = [{"params": [p for n, p in named if p.ndim > 1]}, {"params": [p for n, p in named if p.ndim <= 1], "weight_decay": 0.0}]
    else:
        groups = [{"params": [p for _, p in named]}]
    opt = torch.optim.SGD(groups, lr=o["lr"], momentum=o["momentum"], dampening=o["dampening"], weight_decay=o["weightDecay"], nesterov=o["nesterov"])
    for n, p in named:
        buf = tensors.get(MOMENTUM_PREFIX + n)
        if buf is not None:
            opt.state[p]["momentum_buffer"] = buf.to(device)
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if args.device == "cuda" else None)

    root = args.data_root or plan["dataRoot"]
    data = cfg["data"]
    train_list = train_samples(root, data["trainDir"], plan["classes"])
    full_steps = math.ceil(len(train_list) / batch)
    spe = min(full_steps, data["maxStepsPerEpoch"]) if data.get("maxStepsPerEpoch") else full_steps
    val_files = json.load(open(os.path.join(HERE, plan["valFiles"])))
    val_dir = os.path.join(root, data["valDir"])
    val_list = [(os.path.join(val_dir, f), int(l)) for f, l in zip(val_files["files"], val_files["labels"])]
    vbs = cfg["train"].get("valBatchSize") or batch
    workers = args.workers if args.workers is not None else (data["workers"] or max(1, (os.cpu_count() or 2) // local_world - 1))

    # where the checkpoint stands, and the schedule from there (the workstation's 'exact' resume)
    kind = header.get("checkpointKind", "epoch")
    step_in_epoch = header.get("stepInEpoch", header["stepsPerEpoch"])
    completed = header["epoch"] if kind == "epoch" else header["epoch"] - 1
    if target <= completed:
        raise SystemExit(f"the checkpoint already finished epoch {completed}; --epochs (the epoch to end at) must be greater")
    start_epoch = header["epoch"] + 1 if kind == "epoch" else header["epoch"]
    skip = 0 if kind == "epoch" else step_in_epoch
    sched = dict(header["scheduler"])
    global_step = header["step"]
    sched_step = global_step - sched["startGlobalStep"]
    if header["config"]["train"]["epochs"] != target or header["stepsPerEpoch"] != spe:
        sched["totalSteps"] = sched_step + (target - completed) * spe - skip
    if header["stepsPerEpoch"] != spe and rank == 0:
        print(f"[warn] the checkpoint was trained with {header['stepsPerEpoch']} steps per epoch, the data here gives {spe}", flush=True)
    if kind == "mid-epoch" and header["stepsPerEpoch"] != spe:
        raise SystemExit("a mid-epoch checkpoint needs the same steps per epoch (batch size and dataset); start from an epoch checkpoint")
    partial = header.get("partial") if kind == "mid-epoch" else None
    smoothing = cfg["train"].get("labelSmoothing", 0)
    log_every = cfg["train"].get("logEverySteps", 10)

    report(
        {
            "type": "start",
            "runId": plan["runId"],
            "worldSize": world,
            "device": args.device,
            "torch": torch.__version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "from": os.path.relpath(resume, HERE),
            "startEpoch": start_epoch,
            "startStep": skip,
            "globalStep": global_step,
            "stepsPerEpoch": spe,
            "targetEpochs": target,
        }
    )
    if rank == 0:
        print(f"continuing run {plan['runId']} at epoch {start_epoch} step {skip}/{spe} (global step {global_step}) on {world}x {args.device}", flush=True)

    status, error, last_epoch = "completed", None, None
    try:
        for epoch in range(start_epoch, target + 1):
            first = epoch == start_epoch
            size = train_size_for_epoch(data, epoch)
            ds = Files(train_list, train_transform(aug, size))
            sampler = torch.utils.data.distributed.DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=cfg["seed"], drop_last=False)
            sampler.set_epoch(epoch)
            begin = skip if first else 0
            order = list(sampler)[begin * local_batch : spe * local_batch]
            loader = torch.utils.data.DataLoader(ds, batch_size=local_batch, sampler=order, num_workers=workers, collate_fn=collate, pin_memory=args.device == "cuda")
            ddp.train()
            sums = torch.zeros(5, dtype=torch.float64, device=device)  # loss·n, top-1, top-5, n, skipped
            before = partial["trainSeconds"] if (first and partial) else 0.0
            t0 = time.time()
            lr = mom = float("nan")
            step = begin
            for x, y, skipped in loader:
                if x is None:
                    raise RuntimeError("every image of a batch failed to decode on this rank")
                lr, mom = schedule_at(sched["policy"], sched["totalSteps"], spe, sched["baseLr"], sched["baseMomentum"], global_step - sched["startGlobalStep"])
                for g in opt.param_groups:
                    g["lr"], g["momentum"] = lr, mom
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                out = ddp(x)
                loss = F.cross_entropy(out, y, label_smoothing=smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                global_step += 1
                step += 1
                with torch.no_grad():
                    top = out.topk(min(5, out.shape[1]), 1).indices
                    hit = top.eq(y[:, None])
                    sums += torch.tensor([loss.item() * len(y), hit[:, 0].sum().item(), hit.any(1).sum().item(), len(y), skipped], dtype=torch.float64, device=device)
                if rank == 0 and (step % log_every == 0 or step == spe):
                    print(f"epoch {epoch}/{target} step {step}/{spe} loss {loss.item():.4f} lr {lr:.6g} momentum {mom:.4g}", flush=True)
                    elapsed = max(1e-9, time.time() - t0)
                    rate = (step - begin) / elapsed  # steps/s of this run
                    report.progress(
                        {
                            "runId": plan["runId"],
                            "epoch": epoch,
                            "step": step - 1,
                            "stepsInEpoch": spe,
                            "globalStep": global_step,
                            "loss": loss.item(),
                            "top1": 100.0 * hit[:, 0].sum().item() / len(y),  # rank 0's share of the batch
                            "lr": lr,
                            "momentum": mom,
                            "imagesPerSec": rate * batch,
                            "etaSeconds": ((spe - step) + (target - epoch) * spe) / rate if rate > 0 else None,
                            "targetEpochs": target,
                            "phase": "train",
                        }
                    )
            dist.all_reduce(sums)
            train_seconds = time.time() - t0
            s = sums.tolist()
            new_samples = s[3]
            if first and partial:
                s[0] += partial["sums"][0]
                s[1] += partial["sums"][1]
                s[2] += partial["sums"][2]
                s[3] += partial["samples"]
                s[4] += partial["skipped"]
                if step == begin:
                    lr, mom = partial["lr"], partial["momentum"]

            # validation: the workstation's files (capped subset included), sharded over the ranks
            ddp.eval()
            vs = torch.zeros(5, dtype=torch.float64, device=device)
            shard = Files(val_list[rank::world], val_transform(data, aug))
            vloader = torch.utils.data.DataLoader(shard, batch_size=max(1, math.ceil(vbs / world)), num_workers=workers, collate_fn=collate)
            with torch.no_grad():
                for x, y, skipped in vloader:
                    if x is None:
                        vs[4] += skipped
                        continue
                    x, y = x.to(device), y.to(device)
                    out = model(x)
                    top = out.topk(min(5, out.shape[1]), 1).indices
                    hit = top.eq(y[:, None])
                    vs += torch.tensor(
                        [F.cross_entropy(out, y, reduction="sum", label_smoothing=smoothing).item(), hit[:, 0].sum().item(), hit.any(1).sum().item(), len(y), skipped],
                        dtype=torch.float64,
                        device=device,
                    )
            dist.all_reduce(vs)
            v = vs.tolist()
            metrics = {
                "epoch": epoch,
                "trainLoss": s[0] / s[3],
                "trainTop1": 100 * s[1] / s[3],
                "trainTop5": 100 * s[2] / s[3],
                "valLoss": v[0] / v[3] if v[3] else None,
                "valTop1": 100 * v[1] / v[3] if v[3] else None,
                "valTop5": 100 * v[2] / v[3] if v[3] else None,
                "lr": lr,
                "momentum": mom,
                "imagesPerSec": new_samples / max(1e-9, train_seconds),
                "epochSeconds": before + time.time() - t0,
                "skippedFiles": int(s[4] + v[4]),
                "imageSize": size,
            }
            report({"type": "epoch", "runId": plan["runId"], "globalStep": global_step, "metrics": metrics})
            if rank == 0:
                print(f"epoch {epoch}: train loss {metrics['trainLoss']:.4f} top1 {metrics['trainTop1']:.2f} | val top1 {metrics['valTop1']} | {metrics['epochSeconds']:.1f} s", flush=True)
                state = {k: v.detach() for k, v in model.state_dict().items()}
                for n, p in named:
                    buf = opt.state.get(p, {}).get("momentum_buffer")
                    if buf is not None:
                        state[MOMENTUM_PREFIX + n] = buf
                ck_header = {
                    "checkpointKind": "epoch",
                    "epoch": epoch,
                    "stepInEpoch": spe,
                    "step": global_step,
                    "stepsPerEpoch": spe,
                    "config": cfg,
                    "metrics": metrics,
                    "scheduler": {**sched, "step": global_step - sched["startGlobalStep"]},
                    "augment": aug,
                    "rng": header.get("rng"),
                    "backend": f"pytorch-ddp {world}x{args.device}",
                }
                name = f"epoch-{epoch:04d}.safetensors"
                write_safetensors(
                    os.path.join(ckpt_dir, name),
                    state,
                    {
                        "format": "pt",
                        "format_workstation": "workstation-safetensors-checkpoint-1",
                        "producer": "train_ddp.py",
                        "arch": "resnet50",
                        "classes": str(plan["model"]["numClasses"]),
                        "width": str(plan["model"]["widthMultiplier"]),
                        "epoch": str(epoch),
                        "wnids": json.dumps(plan["classes"]),
                        "workstation_run_id": str(plan["runId"]),
                        "workstation_checkpoint": json.dumps(ck_header),
                    },
                )
                report({"type": "checkpoint", "runId": plan["runId"], "epoch": epoch, "globalStep": global_step, "path": f"checkpoints/{name}", "valTop1": metrics["valTop1"]})
                rotate(ckpt_dir, cfg["checkpoint"], report)
            last_epoch = epoch
            partial = None
            dist.barrier()
    except KeyboardInterrupt:
        status = "stopped"
    except Exception as e:  # noqa: BLE001 - reported, then re-raised
        status, error = "failed", f"{type(e).__name__}: {e}"
        report({"type": "end", "runId": plan["runId"], "status": status, "error": error, "lastEpoch": last_epoch})
        report.close()
        raise
    report({"type": "end", "runId": plan["runId"], "status": status, "error": error, "lastEpoch": last_epoch})
    report.close()
    dist.destroy_process_group()


def rotate(ckpt_dir, policy, report):
    """Keeps the last checkpoint.keepLast epoch checkpoints plus (checkpoint.keepBest) the best by val top-1."""
    files = sorted(glob.glob(os.path.join(ckpt_dir, "epoch-*.safetensors")))
    keep = set(files[-policy.get("keepLast", 3) :])
    if policy.get("keepBest", True):
        best, best_top1 = None, None
        for f in files:
            _, meta = read_header(f)
            top1 = (json.loads(meta.get("workstation_checkpoint", "{}")).get("metrics") or {}).get("valTop1")
            if top1 is not None and (best_top1 is None or top1 > best_top1):
                best, best_top1 = f, top1
        if best:
            keep.add(best)
    for f in files:
        if f not in keep:
            os.remove(f)
            report({"type": "checkpoint-removed", "path": os.path.relpath(f, HERE)})


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, header.get("__metadata__", {})


if __name__ == "__main__":
    main()
